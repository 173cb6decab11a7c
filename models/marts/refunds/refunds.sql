MODEL (
  name marts_refunds.refunds,
  kind FULL,
  owner finance_data,
  cron '@hourly',
  grain refund_id,
  signals (
    sources_landed(sources := ARRAY['shop'])
  ),
  audits (
    not_null(columns := (refund_id, order_id, refund_type, amount, refunded_at, channel)),
    unique_values(columns := (
      refund_id
    )),
    accepted_values("column" := refund_type, is_in := ('full', 'partial', 'chargeback'))
  ),
  description 'One row per refund_id at its refunded_at, with the order channel and the refunded line category and seller (unallocated and NULL for whole-order refunds). Refunds and chargebacks as they stand now, rebuilt every hour so a refund of any business date that landed in the hour is in.'
);

SELECT
  r.refund_id, /* shop refund id */
  r.order_id, /* refunded order */
  r.order_item_id, /* refunded line; NULL for whole-order refunds */
  o.customer_id, /* customer refunded */
  r.refund_type, /* full, partial or chargeback */
  r.refund_type = 'chargeback' AS is_chargeback, /* money taken back by the card network */
  r.reason, /* free-text reason */
  @money(r.amount) AS amount, /* money returned, positive */
  r.refunded_at, /* time the money moved back, UTC */
  o.paid_at, /* when the refunded order was paid, UTC */
  o.channel, /* sales channel of the order */
  COALESCE(l.category, 'unallocated') AS category, /* category of the refunded line */
  l.seller_id /* seller of the refunded line; NULL for whole-order refunds */
FROM staging.stg_shop__refunds AS r
JOIN staging.stg_shop__orders AS o
  ON o.order_id = r.order_id
LEFT JOIN intermediate.int_order_lines AS l
  ON l.order_item_id = r.order_item_id
