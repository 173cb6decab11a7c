MODEL (
  name intermediate.int_order_lines,
  kind VIEW,
  owner finance_data,
  cron '@hourly',
  grain order_item_id,
  audits (
    not_null(columns := (order_item_id, order_id, customer_id, channel, category, seller_id)),
    unique_values(columns := (
      order_item_id
    ))
  ),
  description 'One row per order_item_id of an order that exists in staging. Order lines with their order, product and seller attributes; money in DECIMAL(12,2), commission at the seller current rate.'
);

SELECT
  i.order_item_id, /* order line id */
  i.order_id, /* order of the line */
  o.customer_id, /* buying customer */
  o.status, /* current order status */
  o.channel, /* sales channel of the order */
  o.shipping_country, /* destination country, ISO alpha-2 */
  o.currency, /* currency of the amounts */
  o.placed_at, /* checkout time, UTC */
  o.paid_at, /* sale recognition time, UTC; NULL when never paid */
  i.product_id, /* product sold */
  COALESCE(p.category, 'unknown') AS category, /* product category */
  i.seller_id, /* seller of the line */
  i.quantity, /* units sold */
  i.unit_price, /* price per unit before discount */
  CAST(i.quantity * i.unit_price AS DECIMAL(12, 2)) AS gross_amount, /* quantity * unit_price */
  i.discount_amount, /* discount on the line */
  CAST(i.quantity * i.unit_price - i.discount_amount AS DECIMAL(12, 2)) AS net_amount, /* gross - discount */
  COALESCE(s.commission_rate, 0) AS commission_rate, /* seller commission rate (current) */
  ROUND(
    (
      i.quantity * i.unit_price - i.discount_amount
    ) * COALESCE(s.commission_rate, 0),
    2
  )::DECIMAL(12, 2) AS commission_amount /* marketplace commission on the net amount */
FROM staging.stg_shop__order_items AS i
JOIN staging.stg_shop__orders AS o
  ON o.order_id = i.order_id
LEFT JOIN staging.stg_shop__products AS p
  ON p.product_id = i.product_id
LEFT JOIN staging.stg_shop__sellers AS s
  ON s.seller_id = i.seller_id
