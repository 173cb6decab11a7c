MODEL (
  name marts_orders.order_items,
  kind FULL,
  owner operations_data,
  cron '@hourly',
  grain order_item_id,
  signals (
    sources_landed(sources := ARRAY['shop'])
  ),
  audits (
    not_null(columns := (order_item_id, order_id, seller_id, category)),
    unique_values(columns := (
      order_item_id
    )),
    forall(criteria := (
      net_amount = gross_amount - discount_amount
    ))
  ),
  description 'One row per order_item_id with product, seller, category and money of the line. Current order lines.'
);

SELECT
  order_item_id, /* order line id */
  order_id, /* order of the line */
  customer_id, /* buying customer */
  channel, /* sales channel of the order */
  status AS order_status, /* current status of the order */
  paid_at, /* sale recognition time, UTC */
  product_id, /* product sold */
  category, /* product category */
  seller_id, /* seller of the line */
  quantity, /* units */
  unit_price, /* price per unit before discount */
  gross_amount, /* quantity * unit_price */
  discount_amount, /* line discount */
  net_amount, /* gross - discount */
  commission_rate, /* seller commission rate (current) */
  commission_amount /* marketplace commission on the line */
FROM intermediate.int_order_lines
