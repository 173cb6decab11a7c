MODEL (
  name marts_marketing.touchpoints,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column order_completed_at,
    lookback 72 /* orders whose events (or earlier sessions) arrive late are recomputed for 72 hours */
  ),
  owner growth_data,
  cron '@hourly',
  grain (order_id, session_key),
  signals (
    sources_landed(sources := ARRAY['events', 'crm'])
  ),
  audits (
    not_null(
      columns := (
        order_id,
        session_key,
        order_completed_at,
        session_started_at,
        touch_number,
        touches_in_path,
        channel
      )
    ),
    unique_combination_of_columns(columns := (order_id, session_key)),
    forall(
      criteria := (
        touch_number BETWEEN 1 AND touches_in_path,
        session_started_at <= order_completed_at
      )
    ),
    assert_references(
      "column" := utm_campaign,
      parent := staging.stg_crm__campaigns,
      parent_column := utm_campaign,
      blocking := FALSE
    ) /* referential integrity to Salesforce, non-blocking: a utm_campaign unknown to Salesforce is flagged */
  ),
  description 'Marketing touches on the path to an order. One row per order and session: every session of the ordering visitor (anonymous_id) that started within the 30 days before the order_completed event, the converting session included, keyed to the order time (UTC).'
);

WITH orders AS (
  /* one order_completed event per order: the earliest one in the window */
  SELECT
    order_id,
    anonymous_id,
    customer_id,
    occurred_at AS order_completed_at
  FROM (
    SELECT
      order_id,
      anonymous_id,
      customer_id,
      occurred_at,
      ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY occurred_at, event_id) AS order_event_rank
    FROM staging.stg_events__events
    WHERE
      event_type = 'order_completed'
      AND NOT order_id IS NULL
      AND occurred_at BETWEEN @start_dt AND @end_dt
  ) AS completed
  WHERE
    order_event_rank = 1
), sessions AS (
  SELECT
    *
  FROM intermediate.int_sessions
  /* the 30-day touch lookback window reaches back before the interval */
  WHERE
    session_started_at BETWEEN @start_dt - INTERVAL '30 DAYS' AND @end_dt
), campaigns AS (
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
), paths AS (
  SELECT
    o.order_id,
    o.order_completed_at,
    o.anonymous_id,
    o.customer_id,
    s.session_key,
    s.session_started_at,
    s.channel,
    s.utm_source,
    s.utm_medium,
    s.utm_campaign,
    s.utm_content,
    s.landing_page_path,
    ROW_NUMBER() OVER (PARTITION BY o.order_id ORDER BY s.session_started_at, s.session_key) AS touch_number,
    COUNT(*) OVER (PARTITION BY o.order_id) AS touches_in_path
  FROM orders AS o
  JOIN sessions AS s
    ON s.anonymous_id = o.anonymous_id
    AND s.session_started_at <= o.order_completed_at
    AND s.session_started_at >= o.order_completed_at - INTERVAL '30 DAYS'
)
SELECT
  p.order_id::BIGINT AS order_id, /* shop order id from the order_completed event */
  p.session_key::VARCHAR AS session_key, /* the touching session (intermediate.int_sessions) */
  p.order_completed_at::TIMESTAMP WITH TIME ZONE AS order_completed_at, /* UTC time of the order_completed event (the incremental key) */
  p.anonymous_id::VARCHAR AS anonymous_id, /* visitor whose sessions form the path */
  p.customer_id::BIGINT AS customer_id, /* customer id on the order_completed event, if any */
  p.session_started_at::TIMESTAMP WITH TIME ZONE AS session_started_at, /* UTC start of the touching session */
  p.touch_number::BIGINT AS touch_number, /* 1 = first touch ... touches_in_path = last (converting) touch */
  p.touches_in_path::BIGINT AS touches_in_path, /* sessions on the path of this order */
  (
    p.touch_number = p.touches_in_path
  )::BOOLEAN AS is_converting_session, /* true for the last touch, the session of the order */
  p.channel::VARCHAR AS channel, /* channel of the touch (int_sessions rules) */
  p.utm_source::VARCHAR AS utm_source, /* utm_source of the touch */
  p.utm_medium::VARCHAR AS utm_medium, /* utm_medium of the touch */
  p.utm_campaign::VARCHAR AS utm_campaign, /* utm_campaign of the touch, NULL for untagged traffic */
  p.utm_content::VARCHAR AS utm_content, /* utm_content of the touch */
  p.landing_page_path::VARCHAR AS landing_page_path, /* landing page of the touch */
  c.campaign_id::VARCHAR AS campaign_id, /* Salesforce Campaign Id whose utm_campaign__c matches; NULL if none */
  c.campaign_name::VARCHAR AS campaign_name, /* Salesforce campaign name */
  (
    p.utm_campaign IS NULL OR NOT c.campaign_id IS NULL
  )::BOOLEAN AS is_known_campaign /* false when the touch carries a utm_campaign Salesforce does not know */
FROM paths AS p
LEFT JOIN campaigns AS c
  ON c.utm_campaign = p.utm_campaign
