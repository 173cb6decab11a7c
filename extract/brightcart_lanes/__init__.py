"""brightcart_lanes package."""
