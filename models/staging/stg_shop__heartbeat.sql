MODEL (
  name staging.stg_shop__heartbeat,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain writer,
  audits (not_null(columns := (writer, beat_at)), unique_values(columns := (
      writer
  ))),
  description 'One row per writer. Latest heartbeat of each shop writer; a quiet hour still advances the shop lane high-water mark through it.'
);

WITH versions AS (
  SELECT
    writer,
    beat_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', writer) AS version_rank
  FROM raw_shop.heartbeat
)
SELECT
  writer::VARCHAR AS writer, /* writer process name (primary key) */
  beat_at::TIMESTAMP WITH TIME ZONE AS beat_at, /* last beat, simulated UTC clock */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
