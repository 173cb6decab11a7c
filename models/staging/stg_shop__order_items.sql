MODEL (
  name staging.stg_shop__order_items,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain order_item_id,
  depends_on (
    staging.stg_shop__orders /* referenced by its referential-integrity audit */
  ),
  audits (
    not_null(
      columns := (order_item_id, order_id, product_id, seller_id, quantity, unit_price)
    ),
    unique_values(columns := (
      order_item_id
    )),
    forall(criteria := (quantity > 0, unit_price >= 0, discount_amount >= 0)),
    assert_references("column" := order_id, parent := staging.stg_shop__orders, parent_column := order_id)
  ),
  description 'One row per order_item_id. Current order lines; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie), hard deletes removed.'
);

WITH versions AS (
  SELECT
    order_item_id,
    order_id,
    product_id,
    seller_id,
    quantity,
    unit_price,
    discount_amount,
    created_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', order_item_id) AS version_rank
  FROM raw_shop.order_items
)
SELECT
  order_item_id::BIGINT AS order_item_id, /* shop order line id (primary key) */
  order_id::BIGINT AS order_id, /* order the line belongs to */
  product_id::BIGINT AS product_id, /* product sold */
  seller_id::BIGINT AS seller_id, /* seller of the line */
  quantity::INTEGER AS quantity, /* units sold */
  unit_price::DECIMAL(12, 2) AS unit_price, /* price per unit before discount */
  COALESCE(discount_amount, 0)::DECIMAL(12, 2) AS discount_amount, /* discount on the whole line */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* row creation time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
