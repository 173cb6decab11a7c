MODEL (
  name marts_customers.customers,
  kind FULL,
  owner growth_data,
  cron '@daily',
  grain customer_id,
  signals (
    sources_landed(sources := ARRAY['shop'])
  ),
  audits (
    not_null(columns := (customer_id, created_at)),
    unique_values(columns := (
      customer_id
    ))
  ),
  description 'One row per customer_id. Customers with their first paid order and acquisition; acquisition_campaign stays NULL until the marketing domain provides first-touch attribution (marts_marketing.customer_acquisition).'
);

WITH paid_orders AS (
  SELECT
    customer_id,
    order_id,
    channel,
    paid_at,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY paid_at, order_id) AS order_rank
  FROM staging.stg_shop__orders
  WHERE
    NOT paid_at IS NULL
), order_counts AS (
  SELECT
    customer_id,
    COUNT(*) AS paid_orders
  FROM paid_orders
  GROUP BY
    customer_id
), ledger AS (
  SELECT
    customer_id,
    @kpi_net_revenue() AS net_revenue
  FROM marts_finance.revenue_lines
  GROUP BY
    customer_id
)
SELECT
  c.customer_id, /* shop customer id */
  c.country_code, /* customer country */
  c.created_at, /* account creation, UTC */
  f.order_id AS first_order_id, /* first paid order */
  f.paid_at AS first_order_at, /* payment time of the first paid order, UTC */
  DATE_TRUNC('MONTH', f.paid_at)::DATE AS cohort_month, /* UTC month of the first paid order */
  f.channel AS acquisition_channel, /* channel of the first paid order */
  NULL::VARCHAR AS acquisition_campaign, /* first-touch campaign; filled by the marketing domain */
  COALESCE(n.paid_orders, 0) AS paid_orders, /* paid orders so far */
  @money(COALESCE(l.net_revenue, 0)) AS lifetime_net_revenue /* net revenue so far (KPI net revenue) */
FROM staging.stg_shop__customers AS c
LEFT JOIN paid_orders AS f
  ON f.customer_id = c.customer_id AND f.order_rank = 1
LEFT JOIN order_counts AS n
  ON n.customer_id = c.customer_id
LEFT JOIN ledger AS l
  ON l.customer_id = c.customer_id
