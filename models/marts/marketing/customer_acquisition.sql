MODEL (
  name marts_marketing.customer_acquisition,
  kind FULL,
  owner growth_data,
  cron '@daily',
  grain customer_id,
  audits (
    not_null(
      columns := (customer_id, first_order_id, acquired_at, acquisition_date, first_touch_channel)
    ),
    unique_values(columns := (
      customer_id
    )),
    accepted_values(
      "column" := first_touch_channel,
      is_in := (
        'paid_search',
        'paid_social',
        'email',
        'organic',
        'direct',
        'referral',
        'untracked'
      )
    )
  ),
  description 'How each customer was acquired. One row per customer with a paid order: the first paid order (the KPI new_customers event) and the first touch of that order''s attribution path (channel and Salesforce campaign); untracked when no session led to that order.'
);

WITH first_orders AS (
  SELECT
    customer_id,
    order_id,
    paid_at
  FROM (
    SELECT
      customer_id,
      order_id,
      paid_at,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY paid_at, order_id) AS paid_order_rank
    FROM staging.stg_shop__orders
    WHERE
      NOT paid_at IS NULL
  ) AS paid
  WHERE
    paid_order_rank = 1
), first_touches AS (
  SELECT
    order_id,
    channel,
    utm_source,
    utm_medium,
    utm_campaign,
    campaign_id,
    campaign_name,
    session_key,
    session_started_at,
    touches_in_path
  FROM marts_marketing.attribution
  WHERE
    credit_first_touch = 1
)
SELECT
  f.customer_id::BIGINT AS customer_id, /* shop customer id */
  f.order_id::BIGINT AS first_order_id, /* the customer's first paid order */
  f.paid_at::TIMESTAMP WITH TIME ZONE AS acquired_at, /* UTC payment time of the first paid order */
  f.paid_at::DATE AS acquisition_date, /* UTC day of acquisition (KPI new_customers counts here) */
  COALESCE(t.channel, 'untracked')::VARCHAR AS first_touch_channel, /* channel of the first touch; untracked when no session led to the order */
  t.utm_source::VARCHAR AS first_touch_utm_source, /* utm_source of the first touch */
  t.utm_medium::VARCHAR AS first_touch_utm_medium, /* utm_medium of the first touch */
  t.utm_campaign::VARCHAR AS first_touch_utm_campaign, /* utm_campaign of the first touch, NULL if untagged */
  t.campaign_id::VARCHAR AS first_touch_campaign_id, /* Salesforce Campaign Id of the first touch, NULL if unknown */
  t.campaign_name::VARCHAR AS first_touch_campaign_name, /* Salesforce campaign name of the first touch */
  t.session_key::VARCHAR AS first_touch_session_key, /* session of the first touch */
  t.session_started_at::TIMESTAMP WITH TIME ZONE AS first_touch_at, /* UTC start of the first-touch session */
  t.touches_in_path::BIGINT AS touches_to_first_order /* sessions on the path to the first order (NULL if untracked) */
FROM first_orders AS f
LEFT JOIN first_touches AS t
  ON t.order_id = f.order_id
