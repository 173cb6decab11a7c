MODEL (
  name bi.refund_reasons,
  kind VIEW,
  owner finance_data,
  cron '@daily',
  grain (refund_date, reason, refund_type, lag_days),
  audits (
    not_null(columns := (refund_date, reason, refund_type, lag_band, refunds, amount)),
    unique_combination_of_columns(columns := (refund_date, reason, refund_type, lag_days))
  ),
  description 'One row per UTC refund day, reason, refund type and days from payment to refund. Refunds by reason and by lag: how many and how much money went back, for the refunds dashboard.'
);

SELECT
  DATE_TRUNC('DAY', refunded_at)::DATE AS refund_date, /* UTC day the money moved back */
  COALESCE(reason, 'unknown') AS reason, /* reason the shop recorded; chargebacks read chargeback */
  refund_type, /* full, partial or chargeback */
  DATEDIFF(DAY, paid_at, refunded_at)::INTEGER AS lag_days, /* UTC day boundaries between payment and refund; NULL without a payment time */
  CASE
    WHEN paid_at IS NULL
    THEN 'unknown'
    WHEN DATEDIFF(DAY, paid_at, refunded_at) < 7
    THEN '0-6 days'
    WHEN DATEDIFF(DAY, paid_at, refunded_at) < 14
    THEN '7-13 days'
    WHEN DATEDIFF(DAY, paid_at, refunded_at) < 30
    THEN '14-29 days'
    ELSE '30+ days'
  END AS lag_band, /* lag_days in bands a person reads: 0-6, 7-13, 14-29, 30+ days */
  COUNT(*) AS refunds, /* refunds and chargebacks */
  @money(SUM(amount)) AS amount /* money returned, positive */
FROM marts_refunds.refunds
GROUP BY
  1,
  2,
  3,
  4,
  5
