MODEL (
  name staging.stg_shop__customers,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain customer_id,
  audits (
    not_null(columns := (customer_id, created_at, updated_at)),
    unique_values(columns := (
      customer_id
    ))
  ),
  description 'One row per customer_id. Current shop customers; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie); customers whose latest version carries _sdc_deleted_at are removed.'
);

WITH versions AS (
  SELECT
    customer_id,
    country_code,
    city,
    marketing_opt_in,
    created_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', customer_id) AS version_rank
  FROM raw_shop.customers
)
SELECT
  customer_id::BIGINT AS customer_id, /* shop customer id (primary key) */
  UPPER(country_code)::VARCHAR(2) AS country_code, /* ISO 3166 alpha-2 country of the customer */
  city::VARCHAR AS city, /* customer city */
  marketing_opt_in::BOOLEAN AS marketing_opt_in, /* consented to marketing mail */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* account creation time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
