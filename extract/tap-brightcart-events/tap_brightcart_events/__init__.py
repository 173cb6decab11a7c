"""Singer tap for BrightCart's Firehose-style events in S3."""
