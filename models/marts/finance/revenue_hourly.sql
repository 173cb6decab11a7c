MODEL (
  name marts_finance.revenue_hourly,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key (revenue_hour, channel)
  ),
  owner finance_data,
  cron '@hourly',
  grain (revenue_hour, channel),
  audits (
    not_null(columns := (revenue_hour, channel)),
    unique_combination_of_columns(columns := (revenue_hour, channel)),
    forall(criteria := (net_revenue = net_sales - refunds, net_sales = gmv - discounts))
  ),
  description 'One row per hour and sales channel with any money movement. Revenue per UTC hour as of business date (marts_finance.revenue_lines); each run rebuilds the hours with a ledger entry booked since its interval''s start, and only those. Every figure adds up across hours and channels: orders counts distinct paid orders, and all sale lines of an order sit at its paid_at in its channel, so an order is counted in one hour and one channel. bi.operations_hourly shows it and bi.executive_daily sums it per day.'
);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    revenue_hour IN (@booked_since(DATE_TRUNC('HOUR', entry_at)::TIMESTAMP WITH TIME ZONE, @start_ts))
);

SELECT
  DATE_TRUNC('HOUR', entry_at)::TIMESTAMP WITH TIME ZONE AS revenue_hour, /* UTC hour the money moved */
  channel, /* sales channel */
  @kpi_gmv() AS gmv, /* GMV: quantity * unit_price of paid lines */
  @kpi_discounts() AS discounts, /* discounts on paid lines, positive */
  @kpi_net_sales() AS net_sales, /* GMV - discounts */
  @kpi_commission_revenue() AS commission_revenue, /* marketplace commission */
  @kpi_refunds() AS refunds, /* refunds + chargebacks, positive */
  @kpi_net_revenue() AS net_revenue, /* net sales - refunds */
  @kpi_orders() AS orders /* distinct paid orders (an order counts in the hour and channel of its payment) */
FROM marts_finance.revenue_lines
WHERE
  DATE_TRUNC('HOUR', entry_at)::TIMESTAMP WITH TIME ZONE IN (@booked_since(DATE_TRUNC('HOUR', entry_at)::TIMESTAMP WITH TIME ZONE, @start_ts))
GROUP BY
  1,
  2
