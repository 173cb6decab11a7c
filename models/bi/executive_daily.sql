MODEL (
  name bi.executive_daily,
  kind VIEW,
  owner finance_data,
  cron '@daily',
  grain revenue_date,
  audits (
    not_null(columns := (revenue_date, gmv, net_revenue, orders)),
    unique_values(columns := (
      revenue_date
    ))
  ),
  description 'One row per day with money movement. Executive KPIs per UTC day; GMV, net sales, commission revenue, refunds, net revenue, orders, AOV, refund rate and new customers, each from the shared KPI macros: the money and orders summed from marts_finance.revenue_hourly, whose figures add up across hours and channels.'
);

WITH money AS (
  SELECT
    DATE_TRUNC('DAY', revenue_hour)::DATE AS revenue_date,
    @money(SUM(gmv)) AS gmv,
    @money(SUM(discounts)) AS discounts,
    @money(SUM(net_sales)) AS net_sales,
    @money(SUM(commission_revenue)) AS commission_revenue,
    @money(SUM(refunds)) AS refunds,
    @money(SUM(net_revenue)) AS net_revenue,
    SUM(orders)::BIGINT AS orders
  FROM marts_finance.revenue_hourly
  GROUP BY
    1
), first_orders AS (
  /* from the hourly orders mart, so today's row counts today's new customers in the same run
     as today's money (the customers mart is rebuilt once a day) */
  SELECT
    customer_id,
    MIN(paid_at) AS first_order_at
  FROM marts_orders.orders
  WHERE
    NOT paid_at IS NULL
  GROUP BY
    customer_id
), newcomers AS (
  SELECT
    DATE_TRUNC('DAY', first_order_at)::DATE AS revenue_date,
    @kpi_new_customers(customer_id, TRUE) AS new_customers
  FROM first_orders
  GROUP BY
    1
)
SELECT
  m.revenue_date, /* UTC calendar day */
  m.gmv, /* GMV */
  m.discounts, /* discounts, positive */
  m.net_sales, /* GMV - discounts */
  m.commission_revenue, /* marketplace commission */
  m.refunds, /* refunds + chargebacks, positive */
  m.net_revenue, /* net sales - refunds */
  m.orders, /* distinct paid orders */
  @kpi_aov(m.net_sales, m.orders) AS aov, /* net sales / orders */
  @kpi_refund_rate(m.refunds, m.net_sales) AS refund_rate, /* refunds / net sales */
  COALESCE(n.new_customers, 0) AS new_customers /* customers whose first paid order was this day */
FROM money AS m
LEFT JOIN newcomers AS n
  ON n.revenue_date = m.revenue_date
