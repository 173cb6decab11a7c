MODEL (
  name staging.stg_shop__products,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain product_id,
  audits (
    not_null(columns := (product_id, seller_id, category)),
    unique_values(columns := (
      product_id
    ))
  ),
  description 'One row per product_id. Current product catalogue; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie), hard deletes removed.'
);

WITH versions AS (
  SELECT
    product_id,
    seller_id,
    sku,
    name,
    category,
    price,
    active,
    created_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', product_id) AS version_rank
  FROM raw_shop.products
)
SELECT
  product_id::BIGINT AS product_id, /* shop product id (primary key) */
  seller_id::BIGINT AS seller_id, /* seller offering the product */
  sku::VARCHAR AS sku, /* stock keeping unit */
  name::VARCHAR AS product_name, /* product display name */
  category::VARCHAR AS category, /* product category used in revenue breakdowns */
  price::DECIMAL(12, 2) AS list_price, /* current list price in order currency */
  active::BOOLEAN AS is_active, /* listed for sale now */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* creation time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
