"""Start, stop and check the local BrightCart sources (PostgreSQL, S3 API server, Salesforce)."""
