MODEL (
  name marts_marketing.sessions,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column session_started_at,
    lookback 72
  ),
  owner growth_data,
  cron '@hourly',
  signals (
    sources_landed(sources := ARRAY['events', 'crm'])
  ),
  grain session_key,
  audits (
    not_null(
      columns := (session_key, session_date, session_started_at, channel, is_converted)
    ),
    unique_values(columns := (
      session_key
    )),
    assert_references(
      "column" := utm_campaign,
      parent := staging.stg_crm__campaigns,
      parent_column := utm_campaign,
      blocking := FALSE
    )
  ),
  description 'Sessions for growth reporting with their Salesforce campaign. One row per session (30 minutes of inactivity or UTC midnight ends a session), keyed to the session start (UTC).'
);

WITH campaigns AS (
  /* one Salesforce campaign per utm_campaign value: the most recently started one */
  SELECT
    campaign_id,
    campaign_name,
    utm_campaign
  FROM (
    SELECT
      campaign_id,
      campaign_name,
      utm_campaign,
      ROW_NUMBER() OVER (PARTITION BY utm_campaign ORDER BY start_date DESC, campaign_id) AS campaign_rank
    FROM staging.stg_crm__campaigns
    WHERE
      NOT utm_campaign IS NULL
  ) AS ranked
  WHERE
    campaign_rank = 1
)
SELECT
  s.session_key::VARCHAR AS session_key, /* session surrogate key (intermediate.int_sessions) */
  s.session_started_at::DATE AS session_date, /* UTC day the session started */
  s.session_started_at::TIMESTAMP WITH TIME ZONE AS session_started_at, /* UTC start (the incremental key) */
  s.session_ended_at::TIMESTAMP WITH TIME ZONE AS session_ended_at, /* UTC time of the last event */
  s.anonymous_id::VARCHAR AS anonymous_id, /* visitor */
  s.customer_id::BIGINT AS customer_id, /* customer if identified during the session */
  s.events_count::BIGINT AS events_count, /* events in the session */
  s.page_views::BIGINT AS page_views, /* page views in the session */
  s.has_product_view::BOOLEAN AS has_product_view, /* funnel step: viewed a product */
  s.has_add_to_cart::BOOLEAN AS has_add_to_cart, /* funnel step: added to cart */
  s.has_checkout_started::BOOLEAN AS has_checkout_started, /* funnel step: started checkout */
  s.landing_event_id::VARCHAR AS landing_event_id, /* event_id of the first event of the session */
  s.device_type::VARCHAR AS device_type, /* device type of the landing event */
  s.landing_page_path::VARCHAR AS landing_page_path, /* landing page path */
  s.channel::VARCHAR AS channel, /* channel: paid_search, paid_social, email, organic, direct or referral */
  s.utm_source::VARCHAR AS utm_source, /* landing utm_source */
  s.utm_medium::VARCHAR AS utm_medium, /* landing utm_medium */
  s.utm_campaign::VARCHAR AS utm_campaign, /* landing utm_campaign */
  c.campaign_id::VARCHAR AS campaign_id, /* Salesforce Campaign Id matching utm_campaign; NULL if none */
  c.campaign_name::VARCHAR AS campaign_name, /* Salesforce campaign name */
  s.orders_count::BIGINT AS orders_count, /* orders completed in the session */
  (
    s.orders_count > 0
  )::BOOLEAN AS is_converted, /* true when at least one order was completed in the session */
  s.converted_order_ids::VARCHAR AS converted_order_ids /* comma-separated order ids completed in the session */
FROM intermediate.int_sessions AS s
LEFT JOIN campaigns AS c
  ON c.utm_campaign = s.utm_campaign
WHERE
  s.session_started_at BETWEEN @start_dt AND @end_dt
