MODEL (
  name bi.operations_hourly,
  kind VIEW,
  owner operations_data,
  cron '@hourly',
  grain (revenue_hour, channel),
  audits (
    not_null(columns := (revenue_hour, channel)),
    unique_combination_of_columns(columns := (revenue_hour, channel))
  ),
  description 'One row per hour and sales channel with money movement. Operations KPIs per UTC hour; GMV, net sales, refunds, net revenue, orders and AOV.'
);

SELECT
  DATE_TRUNC('HOUR', entry_at)::TIMESTAMP WITH TIME ZONE AS revenue_hour, /* UTC hour */
  channel, /* sales channel */
  @kpi_gmv() AS gmv, /* GMV */
  @kpi_net_sales() AS net_sales, /* GMV - discounts */
  @kpi_refunds() AS refunds, /* refunds + chargebacks, positive */
  @kpi_net_revenue() AS net_revenue, /* net sales - refunds */
  @kpi_orders() AS orders, /* distinct paid orders */
  @kpi_aov(@kpi_net_sales(), @kpi_orders()) AS aov /* net sales / orders */
FROM marts_finance.revenue_lines
GROUP BY
  1,
  2
