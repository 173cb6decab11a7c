MODEL (
  name staging.stg_shop__refunds,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain refund_id,
  audits (
    not_null(columns := (refund_id, order_id, refund_type, amount, refunded_at)),
    unique_values(columns := (
      refund_id
    )),
    accepted_values("column" := refund_type, is_in := ('full', 'partial', 'chargeback')),
    forall(criteria := (
      amount > 0
    ))
  ),
  description 'One row per refund_id. Current refunds and chargebacks; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie), hard deletes removed.'
);

WITH versions AS (
  SELECT
    refund_id,
    order_id,
    order_item_id,
    refund_type,
    amount,
    reason,
    refunded_at,
    created_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', refund_id) AS version_rank
  FROM raw_shop.refunds
)
SELECT
  refund_id::BIGINT AS refund_id, /* shop refund id (primary key) */
  order_id::BIGINT AS order_id, /* refunded order */
  order_item_id::BIGINT AS order_item_id, /* refunded line; NULL for a whole-order refund */
  refund_type::VARCHAR AS refund_type, /* full, partial or chargeback */
  amount::DECIMAL(12, 2) AS amount, /* money returned to the customer, positive */
  reason::VARCHAR AS reason, /* free-text reason */
  refunded_at::TIMESTAMP WITH TIME ZONE AS refunded_at, /* time the money moved back, UTC */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* row creation time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
