MODEL (
  name staging.stg_events__quarantine,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column landed_hour,
    lookback 72
  ),
  owner growth_data,
  cron '@hourly',
  grain s3_key,
  signals (
    sources_landed(sources := ARRAY['events'])
  ),
  audits (
    not_null(columns := (s3_key, landed_hour, object_last_modified, quarantined_lines)),
    unique_values(columns := (
      s3_key
    ))
  ),
  description 'Quarantined (unparseable or invalid) event lines counted per S3 object, for monitoring. One row per S3 object that had at least one quarantined line, keyed to the hour the producer landed the object: the dt=/hour= partition of its key, on the clock of the events themselves (S3 LastModified, the storage''s own wall clock, only for a key without the partition).'
);

WITH lines AS (
  SELECT
    s3_key,
    line_number,
    error,
    object_last_modified,
    CASE
      WHEN s3_key LIKE 'events/dt=____-__-__/hour=__/%'
      THEN CAST(SUBSTRING(s3_key FROM 11 FOR 10) || ' ' || SUBSTRING(s3_key FROM 27 FOR 2) || ':00:00+00' AS TIMESTAMP WITH TIME ZONE)
      ELSE DATE_TRUNC('HOUR', object_last_modified)
    END AS landed_hour /* events/dt=YYYY-MM-DD/hour=HH/...: the producer's landing hour, UTC */
  FROM raw_events.events_quarantine
)
SELECT
  s3_key::VARCHAR AS s3_key, /* S3 object holding the quarantined lines */
  MAX(landed_hour)::TIMESTAMP WITH TIME ZONE AS landed_hour, /* UTC hour the producer landed the object (its key's dt=/hour= partition; the incremental key) */
  MAX(object_last_modified)::TIMESTAMP WITH TIME ZONE AS object_last_modified, /* UTC S3 LastModified of the object (the storage's wall clock) */
  COUNT(DISTINCT line_number)::BIGINT AS quarantined_lines, /* distinct lines of the object that failed validation (reloads counted once) */
  MIN(error)::VARCHAR AS first_error /* alphabetically first error message, a sample for triage */
FROM lines
WHERE
  landed_hour BETWEEN @start_dt AND @end_dt
GROUP BY
  s3_key
