"""brightcart_sqlmesh package."""
