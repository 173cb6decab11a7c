MODEL (
  name marts_customers.cohorts_monthly,
  kind FULL,
  owner growth_data,
  cron '@daily',
  grain (cohort_month, months_since_first_order),
  audits (
    not_null(columns := (cohort_month, months_since_first_order, cohort_size)),
    unique_combination_of_columns(columns := (cohort_month, months_since_first_order)),
    forall(criteria := (active_customers <= cohort_size, months_since_first_order >= 0))
  ),
  description 'One row per cohort month (UTC month of the first paid order) and months since first order with any sale or refund. Monthly customer cohorts; rebuilt in full because late refunds change earlier months.'
);

WITH cohort AS (
  SELECT
    customer_id,
    cohort_month
  FROM marts_customers.customers
  WHERE
    NOT cohort_month IS NULL
), sizes AS (
  SELECT
    cohort_month,
    COUNT(*) AS cohort_size
  FROM cohort
  GROUP BY
    cohort_month
), activity AS (
  SELECT
    c.cohort_month,
    DATEDIFF(MONTH, c.cohort_month, DATE_TRUNC('MONTH', l.entry_at)::DATE) AS months_since_first_order,
    COUNT(DISTINCT CASE WHEN l.entry_type = 'sale' THEN l.customer_id END) AS active_customers,
    @kpi_net_revenue(l.entry_type, l.amount) AS net_revenue
  FROM marts_finance.revenue_lines AS l
  JOIN cohort AS c
    ON c.customer_id = l.customer_id
  WHERE
    l.entry_type IN ('sale', 'discount', 'refund', 'chargeback')
  GROUP BY
    1,
    2
)
SELECT
  a.cohort_month, /* UTC month of the first paid order */
  a.months_since_first_order::INTEGER AS months_since_first_order, /* 0 = the cohort month */
  s.cohort_size, /* customers in the cohort */
  a.active_customers, /* cohort customers with a paid order in the month */
  @kpi_retention(a.active_customers, s.cohort_size) AS retention_rate, /* active / cohort size */
  @money(a.net_revenue) AS net_revenue, /* cohort net revenue moved in the month */
  @money(
    SUM(a.net_revenue) OVER (
      PARTITION BY a.cohort_month
      ORDER BY a.months_since_first_order
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
  ) AS cumulative_net_revenue, /* cohort net revenue up to the month */
  CAST(SUM(a.net_revenue) OVER (
    PARTITION BY a.cohort_month
    ORDER BY a.months_since_first_order
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )::DECIMAL(18, 6) / s.cohort_size AS DECIMAL(18, 2)) AS cumulative_revenue_per_customer /* cumulative net revenue / cohort size */
FROM activity AS a
JOIN sizes AS s
  ON s.cohort_month = a.cohort_month
