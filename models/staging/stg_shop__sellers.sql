MODEL (
  name staging.stg_shop__sellers,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain seller_id,
  audits (
    not_null(columns := (seller_id, commission_rate)),
    unique_values(columns := (seller_id))
  ),
  description 'One row per seller_id. Current marketplace sellers; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie), hard deletes removed.'
);

WITH versions AS (
  SELECT
    seller_id,
    name,
    country_code,
    commission_rate,
    salesforce_account_id,
    created_at,
    updated_at,
    _sdc_deleted_at,
    ROW_NUMBER() OVER (PARTITION BY seller_id ORDER BY updated_at DESC, _sdc_sequence DESC, _sdc_deleted_at DESC NULLS LAST) AS version_rank
  FROM raw_shop.sellers
)
SELECT
  CAST(seller_id AS BIGINT) AS seller_id, /* shop seller id (primary key) */
  CAST(name AS VARCHAR) AS seller_name, /* seller display name */
  CAST(UPPER(country_code) AS VARCHAR(2)) AS country_code, /* seller country, ISO alpha-2 */
  CAST(commission_rate AS DECIMAL(5, 4)) AS commission_rate, /* share of net sales the marketplace keeps (current rate) */
  CAST(salesforce_account_id AS VARCHAR(18)) AS salesforce_account_id, /* Salesforce Account Id of the seller */
  CAST(created_at AS TIMESTAMPTZ) AS created_at, /* seller creation time, UTC */
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
