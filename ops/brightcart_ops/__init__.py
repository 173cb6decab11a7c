"""brightcart_ops package."""
