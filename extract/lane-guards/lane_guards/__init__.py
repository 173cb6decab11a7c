"""Wrappers around unchanged Singer taps.

They run inside the tap's own Meltano environment, check or prepare what the tap is about to do,
then run the real executable from the same folder:

- ``tap-postgres-guard`` refuses heavy reads (FULL_TABLE, or a first INCREMENTAL read) of the
  OLTP database inside business hours.
- ``tap-salesforce-guard`` keeps secrets out of the logs and keeps a rotated refresh token.
"""
