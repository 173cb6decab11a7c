"""brightcart_world package."""
