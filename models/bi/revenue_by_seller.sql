MODEL (
  name bi.revenue_by_seller,
  kind VIEW,
  owner finance_data,
  cron '@daily',
  grain (revenue_date, seller_id),
  audits (
    not_null(columns := (revenue_date, seller_id)),
    unique_combination_of_columns(columns := (revenue_date, seller_id))
  ),
  description 'One row per day and seller with money movement on that seller lines. Seller revenue per UTC day; GMV, net sales, commission revenue, refunds, net revenue and refund rate.'
);

SELECT
  d.revenue_date, /* UTC calendar day */
  d.seller_id, /* seller */
  MAX(s.seller_name) AS seller_name, /* seller display name */
  @money(SUM(d.gmv)) AS gmv, /* GMV */
  @money(SUM(d.net_sales)) AS net_sales, /* GMV - discounts */
  @money(SUM(d.commission_revenue)) AS commission_revenue, /* marketplace commission */
  @money(SUM(d.refunds)) AS refunds, /* refunds + chargebacks on the seller lines */
  @money(SUM(d.net_revenue)) AS net_revenue, /* net sales - refunds */
  @kpi_refund_rate(SUM(d.refunds), SUM(d.net_sales)) AS refund_rate /* refunds / net sales */
FROM marts_finance.revenue_daily AS d
LEFT JOIN staging.stg_shop__sellers AS s
  ON s.seller_id = d.seller_id
WHERE
  NOT d.seller_id IS NULL
GROUP BY
  1,
  2
