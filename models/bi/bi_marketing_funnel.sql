MODEL (
  name bi.marketing_funnel,
  kind VIEW,
  owner growth_data,
  cron '@hourly',
  grain (session_date, channel, device_type),
  audits (
    not_null(columns := (session_date, channel, sessions))
  ),
  description 'Dashboard dataset marketing_funnel: sessions through product view, add to cart, checkout and order. One row per UTC session day, channel and device type.'
);

SELECT
  session_date, /* UTC day the session started */
  channel, /* channel of the session */
  device_type, /* device type of the landing event */
  COUNT(*) AS sessions, /* sessions */
  SUM(CASE WHEN has_product_view THEN 1 ELSE 0 END) AS sessions_with_product_view, /* sessions that viewed a product */
  SUM(CASE WHEN has_add_to_cart THEN 1 ELSE 0 END) AS sessions_with_add_to_cart, /* sessions that added to cart */
  SUM(CASE WHEN has_checkout_started THEN 1 ELSE 0 END) AS sessions_with_checkout, /* sessions that started checkout */
  SUM(CASE WHEN is_converted THEN 1 ELSE 0 END) AS converted_sessions, /* sessions with at least one order */
  SUM(orders_count) AS orders, /* orders completed in the sessions */
  @kpi_conversion_rate(SUM(orders_count), COUNT(*)) AS conversion_rate /* KPI conversion rate: orders / sessions */
FROM marts_marketing.sessions
GROUP BY
  session_date,
  channel,
  device_type
