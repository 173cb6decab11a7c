MODEL (
  name marts_orders.orders,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key order_id
  ),
  owner operations_data,
  cron '@hourly',
  grain order_id,
  signals (
    sources_landed(sources := ARRAY['shop'])
  ),
  audits (
    not_null(columns := (order_id, customer_id, status, channel, placed_at)),
    unique_values(columns := (
      order_id
    )),
    accepted_values(
      "column" := status,
      is_in := ('placed', 'paid', 'shipped', 'delivered', 'cancelled')
    )
  ),
  description 'One row per order_id with its lifecycle timestamps and money totals. Current state of every order. Each run recomputes, whole, the orders with an order, line or refund version known (updated_at, or deletion time) since its interval''s start, from every landed version, and merges them by order_id; a deleted order leaves the table. The first run and a restatement (run whole for this kind) read every version.'
);

/* the orders whose order row, lines or refunds changed since the interval's start, read from the
   raw logs; @in_keys writes them into the filters as values when the model is evaluated, so the
   staging views rank the versions of these orders only */
@DEF(changed, (
  SELECT
    v.order_id
  FROM raw_shop.orders AS v
  WHERE
    @known_at(v) >= @start_ts
  UNION
  SELECT
    v.order_id
  FROM raw_shop.order_items AS v
  WHERE
    @known_at(v) >= @start_ts
  UNION
  SELECT
    v.order_id
  FROM raw_shop.refunds AS v
  WHERE
    @known_at(v) >= @start_ts
));

WITH items AS (
  SELECT
    order_id,
    COUNT(*) AS item_count,
    SUM(quantity) AS units,
    SUM(gross_amount) AS items_amount,
    SUM(discount_amount) AS discount_amount
  FROM intermediate.int_order_lines
  WHERE
    @in_keys(order_id, @changed)
  GROUP BY
    order_id
), refunds AS (
  SELECT
    order_id,
    SUM(amount) AS refunded_amount
  FROM staging.stg_shop__refunds
  WHERE
    @in_keys(order_id, @changed)
  GROUP BY
    order_id
)
SELECT
  o.order_id, /* shop order id */
  o.customer_id, /* buying customer */
  o.status, /* current status: placed, paid, shipped, delivered or cancelled */
  o.channel, /* sales channel */
  o.shipping_country, /* destination country */
  o.currency, /* currency of the amounts */
  o.placed_at, /* checkout time, UTC */
  o.paid_at, /* payment time, UTC; NULL when never paid */
  o.shipped_at, /* hand-over to carrier, UTC */
  o.delivered_at, /* delivery time, UTC */
  o.cancelled_at, /* cancellation time, UTC */
  NOT o.paid_at IS NULL AS is_paid, /* the order produced money */
  COALESCE(i.item_count, 0) AS item_count, /* order lines */
  COALESCE(i.units, 0)::BIGINT AS units, /* units over all lines (the type stated, as for every column of a merged table) */
  @money(COALESCE(i.items_amount, 0)) AS items_amount, /* sum(quantity * unit_price) */
  @money(COALESCE(i.discount_amount, 0)) AS discount_amount, /* sum of line discounts */
  @money(o.shipping_amount) AS shipping_amount, /* shipping charged */
  @money(o.tax_amount) AS tax_amount, /* tax charged */
  @money(
    COALESCE(i.items_amount, 0) - COALESCE(i.discount_amount, 0) + o.shipping_amount + o.tax_amount
  ) AS order_total, /* items - discounts + shipping + tax */
  @money(COALESCE(r.refunded_amount, 0)) AS refunded_amount /* refunds and chargebacks so far */
FROM staging.stg_shop__orders AS o
LEFT JOIN items AS i
  ON i.order_id = o.order_id
LEFT JOIN refunds AS r
  ON r.order_id = o.order_id
WHERE
  @in_keys(o.order_id, @changed);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    order_id IN (@deleted_keys('shop', raw_shop.orders, order_id, @start_ts))
)
