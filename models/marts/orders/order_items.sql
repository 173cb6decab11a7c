MODEL (
  name marts_orders.order_items,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key order_item_id
  ),
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
  description 'One row per order_item_id with product, seller, category and money of the line. Current order lines. Each run recomputes the lines with a version known since its interval''s start, and every line of an order, product or seller changed since then (status, category, commission rate), from every landed version, merged by order_item_id; a deleted line, or a line of a deleted order, leaves the table. The first run and a restatement (run whole for this kind) read every version.'
);

/* the lines whose own row, order, product or seller changed since the interval's start, read from
   the raw logs; @in_keys writes them into the filter as values when the model is evaluated, so the
   staging views rank the versions of these lines (and their orders) only */
@DEF(changed, (
  SELECT
    v.order_item_id
  FROM raw_shop.order_items AS v
  WHERE
    @known_at(v) >= @start_ts
    OR v.order_id IN (@changed_keys('shop', raw_shop.orders, order_id, @start_ts))
    OR v.product_id IN (@changed_keys('shop', raw_shop.products, product_id, @start_ts))
    OR v.seller_id IN (@changed_keys('shop', raw_shop.sellers, seller_id, @start_ts))
));

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
  commission_rate::DECIMAL(5, 4) AS commission_rate, /* seller commission rate (current); the type is stated: the table is merged into, not rebuilt, and must keep the type SQLMesh declares for it */
  commission_amount /* marketplace commission on the line */
FROM intermediate.int_order_lines
WHERE
  @in_keys(order_item_id, @changed);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    order_item_id IN (@deleted_keys('shop', raw_shop.order_items, order_item_id, @start_ts))
    OR order_id IN (@deleted_keys('shop', raw_shop.orders, order_id, @start_ts))
)
