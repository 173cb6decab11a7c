"""Wrappers around unchanged Singer taps.

They run inside the tap's own Meltano environment, check or prepare what the tap is about to do,
then run the real executable from the same folder:

- ``tap-postgres-guard`` refuses heavy reads (FULL_TABLE, or a first INCREMENTAL read) of the
  OLTP database inside business hours.
- ``tap-salesforce-guard`` keeps secrets out of the logs and keeps a rotated refresh token.
- ``tap-s3-csv-guard`` reads a spend prefix that lists no object as empty instead of failing
  (it runs tap-s3-csv in its own process with the listing wrapped; lane_guards/s3_csv.py).
"""
