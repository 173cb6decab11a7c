"""The deterministic BrightCart data generator."""
