MODEL (
  name bi.marketing_attribution,
  kind VIEW,
  owner growth_data,
  cron '@hourly',
  grain (order_date, channel, utm_campaign),
  audits (
    not_null(columns := (order_date, channel))
  ),
  description 'Dashboard dataset marketing_attribution: attributed orders and net revenue under the four attribution rules. One row per UTC order day, channel and utm_campaign (NULL campaign = untagged traffic).'
);

SELECT
  order_completed_at::DATE AS order_date, /* UTC day of the order_completed event */
  channel, /* channel of the touch */
  utm_campaign, /* utm_campaign of the touch, NULL for untagged traffic */
  MAX(campaign_id) AS campaign_id, /* Salesforce Campaign Id, NULL if unknown */
  MAX(campaign_name) AS campaign_name, /* Salesforce campaign name */
  COUNT(DISTINCT order_id) AS orders_touched, /* orders with at least one touch in this group */
  SUM(credit_first_touch)::DECIMAL(18, 6) AS orders_first_touch, /* orders credited, first touch */
  SUM(credit_last_touch)::DECIMAL(18, 6) AS orders_last_touch, /* orders credited, last touch */
  SUM(credit_linear)::DECIMAL(18, 6) AS orders_linear, /* orders credited, linear */
  SUM(credit_position_based)::DECIMAL(18, 6) AS orders_position_based, /* orders credited, position-based */
  @money(SUM(revenue_first_touch)) AS revenue_first_touch, /* attributed net revenue, first touch */
  @money(SUM(revenue_last_touch)) AS revenue_last_touch, /* attributed net revenue, last touch */
  @money(SUM(revenue_linear)) AS revenue_linear, /* attributed net revenue, linear */
  @money(SUM(revenue_position_based)) AS revenue_position_based /* attributed net revenue, position-based */
FROM marts_marketing.attribution
GROUP BY
  order_completed_at::DATE,
  channel,
  utm_campaign
