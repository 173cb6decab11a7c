MODEL (
  name marts_refunds.refund_rates,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key (period_date, category, seller_id)
  ),
  owner finance_data,
  cron '@hourly',
  grain (period_date, category, seller_id),
  audits (
    not_null(columns := (period_date, category)),
    unique_combination_of_columns(columns := (period_date, category, seller_id))
  ),
  description 'One row per day, category and seller with net sales or refunds that day. Refund rate per UTC day as of business date (marts_finance.revenue_lines), each run rebuilds the days with a ledger entry booked since its interval''s start, and only those; refund rate = refunds (incl. chargebacks) / net sales of the same day and slice.'
);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    period_date IN (@booked_since(DATE_TRUNC('DAY', entry_at)::DATE, @start_ts))
);

WITH by_slice AS (
  SELECT
    DATE_TRUNC('DAY', entry_at)::DATE AS period_date,
    category,
    seller_id,
    @kpi_net_sales() AS net_sales,
    @kpi_refunds() AS refunds,
    @money(-SUM(CASE WHEN entry_type = 'chargeback' THEN amount ELSE 0 END)) AS chargebacks
  FROM marts_finance.revenue_lines
  WHERE
    entry_type IN ('sale', 'discount', 'refund', 'chargeback')
    AND DATE_TRUNC('DAY', entry_at)::DATE IN (@booked_since(DATE_TRUNC('DAY', entry_at)::DATE, @start_ts))
  GROUP BY
    1,
    2,
    3
)
SELECT
  period_date, /* UTC day */
  category, /* product category; unallocated for whole-order refunds */
  seller_id, /* seller; NULL for whole-order refunds */
  net_sales, /* GMV - discounts of the day */
  refunds, /* refunds + chargebacks of the day, positive */
  chargebacks, /* chargebacks of the day, positive */
  @kpi_refund_rate(refunds, net_sales) AS refund_rate /* refunds / net sales; NULL without sales */
FROM by_slice
