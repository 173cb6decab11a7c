MODEL (
  name staging.stg_shop__orders,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain order_id,
  depends_on (
    staging.stg_shop__customers /* referenced by its referential-integrity audit */
  ),
  audits (
    not_null(columns := (order_id, customer_id, status, channel, placed_at)),
    unique_values(columns := (
      order_id
    )),
    accepted_values(
      "column" := status,
      is_in := ('placed', 'paid', 'shipped', 'delivered', 'cancelled')
    ),
    accepted_values("column" := channel, is_in := ('web', 'ios', 'android')),
    assert_references(
      "column" := customer_id,
      parent := staging.stg_shop__customers,
      parent_column := customer_id
    )
  ),
  description 'One row per order_id. Current state of shop orders; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie), hard deletes removed.'
);

WITH versions AS (
  SELECT
    order_id,
    customer_id,
    status,
    channel,
    currency,
    shipping_country,
    shipping_amount,
    tax_amount,
    placed_at,
    paid_at,
    shipped_at,
    delivered_at,
    cancelled_at,
    created_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', order_id) AS version_rank
  FROM raw_shop.orders
)
SELECT
  order_id::BIGINT AS order_id, /* shop order id (primary key) */
  customer_id::BIGINT AS customer_id, /* buying customer */
  status::VARCHAR AS status, /* placed, paid, shipped, delivered or cancelled */
  channel::VARCHAR AS channel, /* sales channel: web, ios or android */
  UPPER(currency)::VARCHAR(3) AS currency, /* ISO 4217 currency of all order amounts */
  UPPER(shipping_country)::VARCHAR(2) AS shipping_country, /* destination country, ISO alpha-2 */
  shipping_amount::DECIMAL(12, 2) AS shipping_amount, /* shipping charged to the customer */
  tax_amount::DECIMAL(12, 2) AS tax_amount, /* tax charged to the customer */
  placed_at::TIMESTAMP WITH TIME ZONE AS placed_at, /* checkout time, UTC */
  paid_at::TIMESTAMP WITH TIME ZONE AS paid_at, /* payment capture time (sale recognised), UTC */
  shipped_at::TIMESTAMP WITH TIME ZONE AS shipped_at, /* hand-over to carrier, UTC */
  delivered_at::TIMESTAMP WITH TIME ZONE AS delivered_at, /* delivery time, UTC */
  cancelled_at::TIMESTAMP WITH TIME ZONE AS cancelled_at, /* cancellation time, UTC */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* row creation time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
