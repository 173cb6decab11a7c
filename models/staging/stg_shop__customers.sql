MODEL (
  name staging.stg_shop__customers,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain customer_id,
  audits (
    not_null(columns := (customer_id, created_at, updated_at)),
    unique_values(columns := (customer_id))
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
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY updated_at DESC, _sdc_sequence DESC, _sdc_deleted_at DESC NULLS LAST) AS version_rank
  FROM raw_shop.customers
)
SELECT
  CAST(customer_id AS BIGINT) AS customer_id, /* shop customer id (primary key) */
  CAST(UPPER(country_code) AS VARCHAR(2)) AS country_code, /* ISO 3166 alpha-2 country of the customer */
  CAST(city AS VARCHAR) AS city, /* customer city */
  CAST(marketing_opt_in AS BOOLEAN) AS marketing_opt_in, /* consented to marketing mail */
  CAST(created_at AS TIMESTAMPTZ) AS created_at, /* account creation time, UTC */
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
