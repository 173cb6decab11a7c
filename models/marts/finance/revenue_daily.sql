MODEL (
  name marts_finance.revenue_daily,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key (revenue_date, channel, category, country, seller_id)
  ),
  owner finance_data,
  cron '@hourly',
  grain (revenue_date, channel, category, country, seller_id),
  audits (
    not_null(columns := (revenue_date, channel, category, country)),
    unique_combination_of_columns(columns := (revenue_date, channel, category, country, seller_id)),
    forall(criteria := (net_revenue = net_sales - refunds, net_sales = gmv - discounts))
  ),
  description 'One row per day, channel, category, shipping country and seller (seller NULL and category unallocated for whole-order refunds) with any sale, discount, commission, refund or chargeback. Revenue per UTC day as of business date (marts_finance.revenue_lines: corrections in place, whenever they were booked), each run rebuilds the days with a ledger entry booked since its interval''s start (money of any age that landed in the hour), and only those; orders counts distinct paid orders in that slice, so it is not additive across categories or sellers.'
);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    revenue_date IN (@booked_since(DATE_TRUNC('DAY', entry_at)::DATE, @start_ts))
);

SELECT
  DATE_TRUNC('DAY', entry_at)::DATE AS revenue_date, /* UTC calendar day the money moved */
  channel, /* sales channel */
  category, /* product category; unallocated for whole-order refunds */
  country, /* shipping country, ISO alpha-2 */
  seller_id, /* seller; NULL for whole-order refunds */
  @kpi_gmv() AS gmv, /* GMV: quantity * unit_price of paid lines */
  @kpi_discounts() AS discounts, /* discounts on paid lines, positive */
  @kpi_net_sales() AS net_sales, /* GMV - discounts */
  @kpi_commission_revenue() AS commission_revenue, /* marketplace commission */
  @kpi_refunds() AS refunds, /* refunds + chargebacks, positive */
  @kpi_net_revenue() AS net_revenue, /* net sales - refunds */
  @kpi_orders() AS orders /* distinct paid orders in the slice */
FROM marts_finance.revenue_lines
WHERE
  NOT entry_type IN ('shipping', 'tax')
  AND DATE_TRUNC('DAY', entry_at)::DATE IN (@booked_since(DATE_TRUNC('DAY', entry_at)::DATE, @start_ts))
GROUP BY
  1,
  2,
  3,
  4,
  5
