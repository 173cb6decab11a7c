MODEL (
  name staging.stg_shop__sellers,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain seller_id,
  audits (
    not_null(columns := (seller_id, commission_rate)),
    unique_values(columns := (
      seller_id
    ))
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
    @version_rank('shop', seller_id) AS version_rank
  FROM raw_shop.sellers
)
SELECT
  seller_id::BIGINT AS seller_id, /* shop seller id (primary key) */
  name::VARCHAR AS seller_name, /* seller display name */
  UPPER(country_code)::VARCHAR(2) AS country_code, /* seller country, ISO alpha-2 */
  commission_rate::DECIMAL(5, 4) AS commission_rate, /* share of net sales the marketplace keeps (current rate) */
  salesforce_account_id::VARCHAR(18) AS salesforce_account_id, /* Salesforce Account Id of the seller */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* seller creation time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
