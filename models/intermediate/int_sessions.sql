MODEL (
  name intermediate.int_sessions,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key session_key
  ),
  owner growth_data,
  cron '@hourly',
  grain session_key,
  signals (
    sources_landed(sources := ARRAY['events'])
  ),
  audits (
    not_null(
      columns := (session_key, anonymous_id, session_started_at, session_ended_at, channel)
    ),
    unique_values(columns := (
      session_key
    )),
    accepted_values(
      "column" := channel,
      is_in := ('paid_search', 'paid_social', 'email', 'organic', 'direct', 'referral')
    ),
    assert_row_count_vs_baseline(
      time_column := session_started_at,
      baseline_days := 7,
      min_ratio := 0.5,
      min_baseline := 20
    )
  ),
  description 'Web and app sessions rebuilt from the clickstream. One row per session: the events of one anonymous_id with no gap longer than 30 minutes, cut at UTC midnight. Each run rebuilds, whole, the visitor-days (anonymous_id and UTC day) with an event first received in its interval, from every event of those days, and replaces their sessions; the first run and a restatement (run whole for this kind) read every event.'
);

/* Sessions are rebuilt by landing time (ADR 0016): a run recomputes, whole, the visitor-days
   (anonymous_id and UTC day of occurred_at) with an event first received in its interval
   (staging.stg_events__events is keyed to its first copy's received_at), from every event of
   those visitor-days, and the statement before the query deletes their sessions first, since
   a late event can merge two sessions or move a session's start. A session is cut at UTC
   midnight, so a visitor-day's sessions depend on that visitor-day's events alone: the sessions
   are the same however the intervals were batched, and a late event reaches its session however
   late it landed within the events' 72-hour cutoff. The first run and a restatement (run whole
   for this kind) read every event. */
@DEF(touched_days, (
  SELECT DISTINCT
    anonymous_id,
    DATE_TRUNC('DAY', occurred_at) AS session_day
  FROM staging.stg_events__events
  WHERE
    received_at BETWEEN @start_dt AND @end_dt
));

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    session_started_at >= @start_dt - INTERVAL '96 HOURS'
    AND anonymous_id || '|' || DATE_TRUNC('DAY', session_started_at)::VARCHAR IN (
      SELECT
        anonymous_id || '|' || session_day::VARCHAR
      FROM (
        @touched_days
      ) AS t
    )
);

WITH touched AS (
  @touched_days
), day_events AS (
  /* every event of the touched visitor-days, whenever it landed; the bound on occurred_at is
     for the scan, not a filter: an event is written at most 72 hours after it occurred, so a
     touched day begins at most 96 hours before the interval */
  SELECT
    e.*
  FROM staging.stg_events__events AS e
  JOIN touched AS t
    ON t.anonymous_id = e.anonymous_id
    AND t.session_day = DATE_TRUNC('DAY', e.occurred_at)
  WHERE
    e.occurred_at >= @start_dt - INTERVAL '96 HOURS'
), boundaries AS (
  /* the windows rank narrow rows (event, visitor, time); the other columns join back after */
  SELECT
    event_id,
    anonymous_id,
    occurred_at,
    LAG(occurred_at) OVER (PARTITION BY anonymous_id ORDER BY occurred_at, event_id) AS previous_occurred_at
  FROM day_events
), flagged AS (
  SELECT
    event_id,
    anonymous_id,
    occurred_at,
    CASE
      WHEN previous_occurred_at IS NULL
      THEN 1
      WHEN occurred_at > previous_occurred_at + INTERVAL '30 MINUTES'
      THEN 1
      WHEN DATE_TRUNC('DAY', occurred_at) <> DATE_TRUNC('DAY', previous_occurred_at)
      THEN 1
      ELSE 0
    END AS is_session_start
  FROM boundaries
), numbered AS (
  SELECT
    event_id,
    is_session_start,
    SUM(is_session_start) OVER (
      PARTITION BY anonymous_id
      ORDER BY occurred_at, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_number
  FROM flagged
), sessions AS (
  /* one pass over the window's events: each session's counts and, from its one start event,
     its landing fields (a session has exactly one row with is_session_start = 1, its first) */
  SELECT
    e.anonymous_id,
    n.session_number,
    MIN(e.occurred_at) AS session_started_at,
    MAX(e.occurred_at) AS session_ended_at,
    COUNT(*) AS events_count,
    SUM(CASE WHEN e.event_type = 'page_view' THEN 1 ELSE 0 END) AS page_views,
    MAX(CASE WHEN e.event_type = 'product_view' THEN 1 ELSE 0 END) AS has_product_view,
    MAX(CASE WHEN e.event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS has_add_to_cart,
    MAX(CASE WHEN e.event_type = 'checkout_started' THEN 1 ELSE 0 END) AS has_checkout_started,
    MAX(e.customer_id) AS customer_id,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.event_id END) AS landing_event_id,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.page_path END) AS landing_page_path,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.page_referrer END) AS landing_referrer,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.device_type END) AS device_type,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.utm_source END) AS utm_source,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.utm_medium END) AS utm_medium,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.utm_campaign END) AS utm_campaign,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.utm_content END) AS utm_content,
    MAX(CASE WHEN n.is_session_start = 1 THEN e.utm_term END) AS utm_term
  FROM day_events AS e
  JOIN numbered AS n
    ON n.event_id = e.event_id
  GROUP BY
    e.anonymous_id,
    n.session_number
), session_orders AS (
  /* each order completed in a session once, however many order_completed events carry it */
  SELECT
    anonymous_id,
    session_number,
    COUNT(order_id) AS orders_count,
    LISTAGG(order_id::VARCHAR, ',') WITHIN GROUP (ORDER BY
      order_id) AS converted_order_ids
  FROM (
    SELECT DISTINCT
      e.anonymous_id,
      n.session_number,
      e.order_id
    FROM day_events AS e
    JOIN numbered AS n
      ON n.event_id = e.event_id
    WHERE
      e.event_type = 'order_completed'
  ) AS completed
  GROUP BY
    anonymous_id,
    session_number
)
SELECT
  MD5(l.anonymous_id || '|' || l.landing_event_id)::VARCHAR AS session_key, /* surrogate key: md5 of anonymous_id and the landing event_id */
  l.anonymous_id::VARCHAR AS anonymous_id, /* device/browser identifier the session belongs to */
  l.customer_id::BIGINT AS customer_id, /* shop customer id if the visitor was identified during the session, else NULL */
  l.session_started_at::TIMESTAMP WITH TIME ZONE AS session_started_at, /* UTC time of the first event (the incremental key) */
  l.session_ended_at::TIMESTAMP WITH TIME ZONE AS session_ended_at, /* UTC time of the last event */
  l.events_count::BIGINT AS events_count, /* events in the session */
  l.page_views::BIGINT AS page_views, /* page_view events in the session */
  (
    l.has_product_view = 1
  )::BOOLEAN AS has_product_view, /* the session viewed at least one product (funnel step 2) */
  (
    l.has_add_to_cart = 1
  )::BOOLEAN AS has_add_to_cart, /* the session added to cart (funnel step 3) */
  (
    l.has_checkout_started = 1
  )::BOOLEAN AS has_checkout_started, /* the session started checkout (funnel step 4) */
  l.landing_event_id::VARCHAR AS landing_event_id, /* event_id of the first event */
  l.landing_page_path::VARCHAR AS landing_page_path, /* path of the landing page */
  l.landing_referrer::VARCHAR AS landing_referrer, /* referrer of the landing event */
  l.device_type::VARCHAR AS device_type, /* device type of the landing event */
  l.utm_source::VARCHAR AS utm_source, /* landing utm_source */
  l.utm_medium::VARCHAR AS utm_medium, /* landing utm_medium */
  l.utm_campaign::VARCHAR AS utm_campaign, /* landing utm_campaign; joins Campaign.utm_campaign__c */
  l.utm_content::VARCHAR AS utm_content, /* landing utm_content */
  l.utm_term::VARCHAR AS utm_term, /* landing utm_term */
  CASE
    WHEN LOWER(l.utm_medium) IN ('cpc', 'ppc', 'paid_search', 'shopping')
    THEN 'paid_search'
    WHEN LOWER(l.utm_medium) IN ('paid_social', 'display', 'cpm', 'paid')
    THEN 'paid_social'
    WHEN LOWER(l.utm_medium) = 'email' OR LOWER(l.utm_source) = 'email'
    THEN 'email'
    WHEN NOT l.utm_source IS NULL OR NOT l.utm_medium IS NULL
    THEN 'referral'
    WHEN l.landing_referrer IS NULL OR l.landing_referrer LIKE '%brightcart%'
    THEN 'direct'
    WHEN l.landing_referrer ~ '(google|bing|duckduckgo|yahoo|facebook|instagram|tiktok|linkedin|pinterest)\\.|//t\\.co/'
    THEN 'organic'
    ELSE 'referral'
  END::VARCHAR AS channel, /* marketing channel of the landing event: paid_search, paid_social, email, organic, direct or referral (docs/marketing.md) */
  COALESCE(o.orders_count, 0)::BIGINT AS orders_count, /* distinct orders completed in the session (order_completed events) */
  o.converted_order_ids::VARCHAR AS converted_order_ids /* comma-separated order ids completed in the session, ascending; NULL if none */
FROM sessions AS l
LEFT JOIN session_orders AS o
  ON o.anonymous_id = l.anonymous_id AND o.session_number = l.session_number
