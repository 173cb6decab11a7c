MODEL (
  name bi.cohorts,
  kind VIEW,
  owner growth_data,
  cron '@daily',
  grain (cohort_month, months_since_first_order),
  audits (
    unique_combination_of_columns(columns := (cohort_month, months_since_first_order))
  ),
  description 'One row per cohort month and months since first order. Cohort retention; cohort size, active customers, retention and cumulative net revenue per customer.'
);

SELECT
  cohort_month, /* UTC month of the first paid order */
  months_since_first_order, /* 0 = the cohort month */
  cohort_size, /* customers in the cohort */
  active_customers, /* cohort customers with a paid order in the month */
  @kpi_retention(active_customers, cohort_size) AS retention_rate, /* active / cohort size */
  net_revenue, /* cohort net revenue in the month */
  cumulative_revenue_per_customer /* cumulative net revenue / cohort size */
FROM marts_customers.cohorts_monthly
