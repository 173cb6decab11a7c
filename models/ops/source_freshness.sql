MODEL (
  name ops.source_freshness,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain lane,
  audits (
    not_null(columns := (lane, landed_to)),
    unique_values(columns := (
      lane
    )),
    assert_source_fresh
  ),
  description 'One row per source lane of raw_meta.load_log. How far each lane has landed: its high-water mark (max over succeeded loads), last load and failed loads; the signals gate models on the same mark.'
);

SELECT
  lane, /* shop, events, marketing or crm */
  MAX(CASE WHEN status = 'succeeded' THEN high_water_mark END) AS landed_to, /* lane high-water mark, UTC */
  MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS last_success_at, /* wall clock of the last good load */
  MAX(finished_at) AS last_load_at, /* wall clock of the last load of any status */
  SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed_loads, /* failed stream loads in the log */
  SUM(CASE WHEN status = 'succeeded' THEN rows_inserted ELSE 0 END) AS rows_inserted /* new row versions landed */
FROM raw_meta.load_log
GROUP BY
  lane
