MODEL (
  name bi.refunds,
  kind VIEW,
  owner finance_data,
  cron '@daily',
  grain (period_date, category, seller_id),
  audits (
    not_null(columns := (period_date, category)),
    unique_combination_of_columns(columns := (period_date, category, seller_id))
  ),
  description 'One row per day, category and seller with net sales, refunds, chargebacks and refund rate. Refunds per UTC day.'
);

SELECT
  period_date, /* UTC day */
  category, /* product category; unallocated for whole-order refunds */
  seller_id, /* seller; NULL for whole-order refunds */
  net_sales, /* GMV - discounts */
  refunds, /* refunds + chargebacks, positive */
  chargebacks, /* chargebacks, positive */
  @kpi_refund_rate(refunds, net_sales) AS refund_rate /* refunds / net sales */
FROM marts_refunds.refund_rates
