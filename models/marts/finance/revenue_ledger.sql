MODEL (
  name marts_finance.revenue_ledger,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column entry_at,
    lookback 72
  ),
  owner finance_data,
  cron '@hourly',
  grain entry_id,
  depends_on (
    staging.stg_shop__payments /* read by assert_ledger_matches_payments */
  ),
  signals (
    sources_landed(sources := ARRAY['shop'])
  ),
  audits (
    not_null(columns := (entry_id, entry_type, entry_at, order_id, amount, channel, category)),
    unique_values(columns := (
      entry_id
    )),
    accepted_values(
      "column" := entry_type,
      is_in := ('sale', 'discount', 'shipping', 'tax', 'commission', 'refund', 'chargeback')
    ),
    assert_ledger_matches_payments,
    assert_row_count_vs_baseline(time_column := entry_at, baseline_days := 7, min_ratio := 0.5, min_baseline := 20),
    assert_null_rate_vs_baseline(
      time_column := entry_at,
      "column" := country,
      baseline_days := 7,
      max_increase := 0.2,
      min_rows := 10
    )
  ),
  description 'One row per order line (sale, discount, commission) or order (shipping, tax) or refund (refund, chargeback) and entry type, at its own business time. Immutable money movements; sales at paid_at, refunds and chargebacks at refunded_at, so a late refund is a new row on its own date. Amounts are signed from the customer money view (sale, shipping, tax positive; discount, refund, chargeback negative); commission is the marketplace share, positive.'
);

WITH lines AS (
  SELECT
    *
  FROM intermediate.int_order_lines
  WHERE
    paid_at BETWEEN @start_ts AND @end_ts
), orders AS (
  SELECT
    *
  FROM staging.stg_shop__orders
  WHERE
    paid_at BETWEEN @start_ts AND @end_ts
), line_entries AS (
  SELECT
    'sale' AS entry_type,
    l.gross_amount AS amount,
    l.*
  FROM lines AS l
  UNION ALL
  SELECT
    'discount' AS entry_type,
    -l.discount_amount AS amount,
    l.*
  FROM lines AS l
  UNION ALL
  SELECT
    'commission' AS entry_type,
    l.commission_amount AS amount,
    l.*
  FROM lines AS l
), refunds AS (
  SELECT
    r.refund_id,
    r.order_id,
    r.order_item_id,
    CASE WHEN r.refund_type = 'chargeback' THEN 'chargeback' ELSE 'refund' END AS entry_type,
    r.refunded_at,
    -r.amount AS amount,
    o.customer_id,
    o.channel,
    o.shipping_country,
    o.currency,
    l.category,
    l.seller_id
  FROM staging.stg_shop__refunds AS r
  JOIN staging.stg_shop__orders AS o
    ON o.order_id = r.order_id
  LEFT JOIN intermediate.int_order_lines AS l
    ON l.order_item_id = r.order_item_id
  WHERE
    r.refunded_at BETWEEN @start_ts AND @end_ts
), entries AS (
  SELECT
    entry_type || ':item:' || order_item_id::VARCHAR AS entry_id,
    entry_type,
    paid_at AS entry_at,
    order_id,
    order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    category,
    seller_id,
    amount
  FROM line_entries
  UNION ALL
  SELECT
    'shipping:order:' || order_id::VARCHAR AS entry_id,
    'shipping' AS entry_type,
    paid_at AS entry_at,
    order_id,
    NULL::BIGINT AS order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    NULL::VARCHAR AS category,
    NULL::BIGINT AS seller_id,
    shipping_amount AS amount
  FROM orders
  UNION ALL
  SELECT
    'tax:order:' || order_id::VARCHAR AS entry_id,
    'tax' AS entry_type,
    paid_at AS entry_at,
    order_id,
    NULL::BIGINT AS order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    NULL::VARCHAR AS category,
    NULL::BIGINT AS seller_id,
    tax_amount AS amount
  FROM orders
  UNION ALL
  SELECT
    entry_type || ':refund:' || refund_id::VARCHAR AS entry_id,
    entry_type,
    refunded_at AS entry_at,
    order_id,
    order_item_id,
    refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    category,
    seller_id,
    amount
  FROM refunds
)
SELECT
  entry_id::VARCHAR AS entry_id, /* entry type, source grain and source id, e.g. sale:item:42 */
  entry_type::VARCHAR AS entry_type, /* sale, discount, shipping, tax, commission, refund or chargeback */
  entry_at::TIMESTAMP WITH TIME ZONE AS entry_at, /* business time of the movement (paid_at or refunded_at), UTC */
  order_id::BIGINT AS order_id, /* order the money belongs to */
  order_item_id::BIGINT AS order_item_id, /* order line; NULL for order-level entries and whole-order refunds */
  refund_id::BIGINT AS refund_id, /* refund behind a refund or chargeback entry */
  customer_id::BIGINT AS customer_id, /* buying customer */
  channel::VARCHAR AS channel, /* sales channel of the order */
  shipping_country::VARCHAR(2) AS country, /* order shipping country, ISO alpha-2 */
  currency::VARCHAR(3) AS currency, /* currency of the amount */
  COALESCE(category, 'unallocated')::VARCHAR AS category, /* product category; unallocated for order-level money */
  seller_id::BIGINT AS seller_id, /* seller of the line; NULL for order-level money */
  @money(amount) AS amount /* signed amount, DECIMAL(18,2) */
FROM entries
