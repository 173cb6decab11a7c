"""tap-postgres with a bulk path for INCREMENTAL and FULL_TABLE streams (see tap.py)."""
