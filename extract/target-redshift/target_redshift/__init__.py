"""BrightCart's Singer loader: append-only version logs in Redshift or DuckDB."""
