MODEL (
  name staging.stg_events__lines,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column received_at
  ),
  owner growth_data,
  cron '@hourly',
  grain (s3_key, line_number, object_last_modified),
  tags (
    booked_by_change_time
  ),
  signals (
    sources_landed(sources := ARRAY['events'])
  ),
  audits (
    not_null(
      columns := (event_id, occurred_at, received_at, s3_key, line_number, object_last_modified)
    )
  ),
  description 'Every landed clickstream line, typed, with the payload fields the warehouse reads parsed once. Processed by landing time (received_at, the collector''s clock and the events lane''s high-water mark), with no lookback: the sources_landed signal runs an hour only once every line received before its end has landed, so each line is parsed in the run of the hour it was received in and never again. Copies of an event are all kept (one row per landed line); staging.stg_events__events picks the first received copy and applies the late-arrival cutoff. A line without received_at is never read.'
);

SELECT
  event_id::VARCHAR AS event_id, /* event UUID from the producer (copies share it) */
  event_type::VARCHAR AS event_type, /* page_view, product_view, add_to_cart, checkout_started, order_completed or signup */
  occurred_at::TIMESTAMP WITH TIME ZONE AS occurred_at, /* UTC time the event happened on the device (business time) */
  received_at::TIMESTAMP WITH TIME ZONE AS received_at, /* UTC time the collector received the line (the incremental key) */
  anonymous_id::VARCHAR AS anonymous_id, /* device/browser identifier */
  customer_id::BIGINT AS customer_id, /* shop customer id when the visitor was logged in, else NULL */
  session_id::VARCHAR AS client_session_id, /* the client's own session id */
  NULLIF(@event_field(payload, 'utm_source'), '')::VARCHAR AS utm_source, /* utm_source of the landing URL, NULL if absent */
  NULLIF(@event_field(payload, 'utm_medium'), '')::VARCHAR AS utm_medium, /* utm_medium, NULL if absent */
  NULLIF(@event_field(payload, 'utm_campaign'), '')::VARCHAR AS utm_campaign, /* utm_campaign, NULL if absent */
  NULLIF(@event_field(payload, 'utm_content'), '')::VARCHAR AS utm_content, /* utm_content (creative), NULL if absent */
  NULLIF(@event_field(payload, 'utm_term'), '')::VARCHAR AS utm_term, /* utm_term (keyword), NULL if absent */
  NULLIF(@event_field(payload, 'page', 'path'), '')::VARCHAR AS page_path, /* URL path of the page */
  NULLIF(@event_field(payload, 'page', 'referrer'), '')::VARCHAR AS page_referrer, /* HTTP referrer, NULL when empty */
  NULLIF(@event_field(payload, 'context', 'device_type'), '')::VARCHAR AS device_type, /* device type reported by the client */
  NULLIF(@event_field(payload, 'properties', 'product_id'), '')::BIGINT AS product_id, /* properties.product_id for product events */
  NULLIF(@event_field(payload, 'properties', 'order_id'), '')::BIGINT AS order_id, /* properties.order_id; set on order_completed */
  NULLIF(@event_field(payload, 'properties', 'revenue'), '')::DECIMAL(12, 2) AS revenue, /* properties.revenue as reported by the client */
  NULLIF(@event_field(payload, 'properties', 'currency'), '')::VARCHAR AS currency, /* properties.currency (ISO 4217) */
  s3_key::VARCHAR AS s3_key, /* S3 object the line was read from */
  line_number::BIGINT AS line_number, /* line inside the object */
  object_last_modified::TIMESTAMP WITH TIME ZONE AS object_last_modified /* S3 LastModified of the object (copies of one object) */
FROM raw_events.events
WHERE
  received_at BETWEEN @start_dt AND @end_dt
