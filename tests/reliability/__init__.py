"""Fault-injection suite: kill -9, source outages, bad input, concurrent runs, secrets in logs."""
