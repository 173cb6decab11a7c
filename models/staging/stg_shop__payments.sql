MODEL (
  name staging.stg_shop__payments,
  kind VIEW,
  owner data_platform,
  cron '@hourly',
  grain payment_id,
  audits (
    not_null(columns := (payment_id, order_id, status, amount)),
    unique_values(columns := (
      payment_id
    )),
    accepted_values("column" := status, is_in := ('captured', 'failed')),
    accepted_values("column" := method, is_in := ('card', 'paypal', 'gift_card'))
  ),
  description 'One row per payment_id. Current payments; the latest landed version (by updated_at, then _sdc_sequence, a deletion first on a tie), hard deletes removed.'
);

WITH versions AS (
  SELECT
    payment_id,
    order_id,
    method,
    status,
    amount,
    created_at,
    updated_at,
    _sdc_deleted_at,
    @version_rank('shop', payment_id) AS version_rank
  FROM raw_shop.payments
)
SELECT
  payment_id::BIGINT AS payment_id, /* shop payment id (primary key) */
  order_id::BIGINT AS order_id, /* order paid */
  method::VARCHAR AS method, /* card, paypal or gift_card */
  status::VARCHAR AS status, /* captured or failed */
  amount::DECIMAL(12, 2) AS amount, /* amount charged: items - discounts + shipping + tax */
  created_at::TIMESTAMP WITH TIME ZONE AS created_at, /* payment attempt time, UTC */
  updated_at::TIMESTAMP WITH TIME ZONE AS updated_at /* source time of this version, UTC */
FROM versions
WHERE
  version_rank = 1 AND _sdc_deleted_at IS NULL
