MODEL (
  name staging.stg_events__events,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column received_at
  ),
  owner growth_data,
  cron '@hourly',
  grain event_id,
  tags (
    booked_by_change_time
  ),
  signals (
    sources_landed(sources := ARRAY['events'])
  ),
  audits (
    not_null(columns := (event_id, event_type, occurred_at, received_at, anonymous_id)),
    unique_values(columns := (
      event_id
    )),
    accepted_values(
      "column" := event_type,
      is_in := (
        'page_view',
        'product_view',
        'add_to_cart',
        'checkout_started',
        'order_completed',
        'signup'
      )
    ),
    assert_row_count_vs_baseline(time_column := received_at, baseline_days := 7, min_ratio := 0.5, min_baseline := 20), /* row-count anomaly and null spike against the trailing week (non-blocking, they alert) */
    assert_null_rate_vs_baseline(
      time_column := received_at,
      "column" := page_path,
      baseline_days := 7,
      max_increase := 0.2,
      min_rows := 10
    )
  ),
  description 'Clickstream events, typed and deduplicated, from the landed lines (staging.stg_events__lines, their payload parsed once). One row per event_id: the first received copy, written in the run of the hour it was received in (received_at, landing time) and never recomputed, so a late event is new data in the current hour and no lookback is needed. A copy received more than 72 hours after its event occurred is excluded, so reruns and restatements give identical rows.'
);

/* Processed by landing time: the interval's lines are those received in it. A line is kept when it
   is its event's first copy within the late-arrival cutoff (received at most 72 hours after the
   event occurred): no copy of the event was received in an earlier interval, and among the
   interval's copies it is the first by (received_at, object_last_modified, s3_key, line_number).
   An earlier copy within the cutoff occurred at most 72 hours before the interval's start (copies
   of an event share occurred_at), so the search for earlier copies reads that much and no more,
   however long the history. */
WITH arrived AS (
  /* the interval's lines within the cutoff, narrow: the ids to look up */
  SELECT
    event_id
  FROM staging.stg_events__lines
  WHERE
    received_at BETWEEN @start_dt AND @end_dt
    AND received_at <= occurred_at + INTERVAL '72 HOURS'
), landed_before AS (
  /* events of the interval with a copy received in an earlier interval: already written there */
  SELECT DISTINCT
    event_id
  FROM staging.stg_events__lines
  WHERE
    occurred_at >= @start_dt - INTERVAL '72 HOURS'
    AND received_at < @start_dt
    AND received_at <= occurred_at + INTERVAL '72 HOURS'
    AND event_id IN (
      SELECT
        event_id
      FROM arrived
    )
), duplicated AS (
  /* event ids with more than one copy in the interval: few; only their copies are ranked */
  SELECT
    event_id
  FROM arrived
  GROUP BY
    event_id
  HAVING
    COUNT(*) > 1
), later_copies AS (
  /* every copy but the first received of an event duplicated in the interval, by its version key */
  SELECT
    s3_key,
    line_number,
    object_last_modified
  FROM (
    SELECT
      s3_key,
      line_number,
      object_last_modified,
      ROW_NUMBER() OVER (
        PARTITION BY event_id
        ORDER BY received_at, object_last_modified, s3_key, line_number
      ) AS copy_rank
    FROM staging.stg_events__lines
    WHERE
      received_at BETWEEN @start_dt AND @end_dt
      AND received_at <= occurred_at + INTERVAL '72 HOURS'
      AND event_id IN (
        SELECT
          event_id
        FROM duplicated
      )
  ) AS ranked
  WHERE
    copy_rank > 1
), landed AS (
  /* the interval's lines less the later copies and the events landed before (uncorrelated joins
     whose build sides are those few rows: DuckDB plans NOT EXISTS here as a delim join that
     buffers every line) */
  SELECT
    e.event_id,
    e.event_type,
    e.occurred_at,
    e.received_at,
    e.anonymous_id,
    e.customer_id,
    e.client_session_id,
    e.utm_source,
    e.utm_medium,
    e.utm_campaign,
    e.utm_content,
    e.utm_term,
    e.page_path,
    e.page_referrer,
    e.device_type,
    e.product_id,
    e.order_id,
    e.revenue,
    e.currency,
    e.s3_key,
    e.line_number
  FROM staging.stg_events__lines AS e
  LEFT JOIN later_copies AS l
    ON l.s3_key = e.s3_key
    AND l.line_number = e.line_number
    AND l.object_last_modified = e.object_last_modified
  LEFT JOIN landed_before AS b
    ON b.event_id = e.event_id
  WHERE
    e.received_at BETWEEN @start_dt AND @end_dt
    AND e.received_at <= e.occurred_at + INTERVAL '72 HOURS'
    AND l.s3_key IS NULL
    AND b.event_id IS NULL
)
SELECT
  event_id::VARCHAR AS event_id, /* event UUID from the producer; primary key */
  event_type::VARCHAR AS event_type, /* page_view, product_view, add_to_cart, checkout_started, order_completed or signup */
  occurred_at::TIMESTAMP WITH TIME ZONE AS occurred_at, /* UTC time the event happened on the device (business time) */
  received_at::TIMESTAMP WITH TIME ZONE AS received_at, /* UTC time the collector received the event's first copy (the incremental key: landing time) */
  anonymous_id::VARCHAR AS anonymous_id, /* device/browser identifier; the sessionization key */
  customer_id::BIGINT AS customer_id, /* shop customer id when the visitor was logged in, else NULL */
  client_session_id::VARCHAR AS client_session_id, /* the client's own session id (informational; int_sessions recomputes sessions) */
  utm_source::VARCHAR AS utm_source, /* utm_source of the landing URL, NULL if absent */
  utm_medium::VARCHAR AS utm_medium, /* utm_medium, NULL if absent */
  utm_campaign::VARCHAR AS utm_campaign, /* utm_campaign; joins Salesforce Campaign.utm_campaign__c */
  utm_content::VARCHAR AS utm_content, /* utm_content (creative), NULL if absent */
  utm_term::VARCHAR AS utm_term, /* utm_term (keyword), NULL if absent */
  page_path::VARCHAR AS page_path, /* URL path of the page */
  page_referrer::VARCHAR AS page_referrer, /* HTTP referrer, NULL when empty */
  device_type::VARCHAR AS device_type, /* device type reported by the client */
  product_id::BIGINT AS product_id, /* properties.product_id for product events */
  order_id::BIGINT AS order_id, /* properties.order_id; set on order_completed */
  revenue::DECIMAL(12, 2) AS revenue, /* properties.revenue as reported by the client (the shop order is the money truth) */
  currency::VARCHAR AS currency, /* properties.currency (ISO 4217) */
  s3_key::VARCHAR AS s3_key, /* S3 object of the first received copy (lineage to the landing file) */
  line_number::BIGINT AS line_number /* line of that copy inside the object */
FROM landed
