MODEL (
  name staging.stg_events__quarantine,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column object_last_modified,
    lookback 72
  ),
  owner growth_data,
  cron '@hourly',
  grain s3_key,
  signals (
    sources_landed(sources := ARRAY['events'])
  ),
  audits (
    not_null(columns := (s3_key, object_last_modified, quarantined_lines)),
    unique_values(columns := (
      s3_key
    ))
  ),
  description 'Quarantined (unparseable or invalid) event lines counted per S3 object, for monitoring. One row per S3 object that had at least one quarantined line, keyed to the object''s last-modified time (UTC).'
);

SELECT
  s3_key::VARCHAR AS s3_key, /* S3 object holding the quarantined lines */
  MAX(object_last_modified)::TIMESTAMP WITH TIME ZONE AS object_last_modified, /* UTC last-modified time of the object (the landing hour) */
  COUNT(DISTINCT line_number)::BIGINT AS quarantined_lines, /* distinct lines of the object that failed validation (reloads counted once) */
  MIN(error)::VARCHAR AS first_error /* alphabetically first error message, a sample for triage */
FROM raw_events.events_quarantine
WHERE
  object_last_modified BETWEEN @start_dt AND @end_dt
GROUP BY
  s3_key
