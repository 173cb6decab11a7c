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
  description 'One row per hour and sales channel with money movement. Operations KPIs per UTC hour; GMV, net sales, refunds, net revenue, orders and AOV, as marts_finance.revenue_hourly holds them.'
);

SELECT
  revenue_hour, /* UTC hour */
  channel, /* sales channel */
  gmv, /* GMV */
  net_sales, /* GMV - discounts */
  refunds, /* refunds + chargebacks, positive */
  net_revenue, /* net sales - refunds */
  orders, /* distinct paid orders */
  @kpi_aov(net_sales, orders) AS aov /* net sales / orders */
FROM marts_finance.revenue_hourly
