MODEL (
  name marts_marketing.attribution,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key (order_id, session_key),
    lookback 72 /* the orders whose touches marts_marketing.touchpoints recomputes (its lookback) are recomputed here too */
  ),
  owner growth_data,
  cron '@hourly',
  grain (order_id, session_key),
  signals (
    sources_landed(sources := ARRAY['events', 'shop', 'crm'])
  ),
  audits (
    not_null(columns := (order_id, session_key, order_completed_at, order_net_revenue)),
    unique_combination_of_columns(columns := (order_id, session_key)),
    forall(
      criteria := (
        credit_first_touch BETWEEN 0 AND 1,
        credit_last_touch BETWEEN 0 AND 1,
        credit_linear BETWEEN 0 AND 1,
        credit_position_based BETWEEN 0 AND 1
      )
    ),
    assert_attribution_credits_sum_to_one,
    forall_non_blocking(criteria := (
      is_known_campaign
    )) /* referential integrity to Salesforce, non-blocking: a touch whose utm_campaign is not a Salesforce campaign is flagged (is_known_campaign comes from touchpoints, which runs assert_references against staging.stg_crm__campaigns) */
  ),
  description 'Multi-touch attribution of shop orders to marketing touches. One row per order and touching session (30-day touch lookback), with the credit and attributed net revenue of that touch under four rules: first touch, last touch, linear and position-based (40/20/40); per order and rule the credits sum to exactly 1 and the attributed revenue to exactly the order net revenue. The order net revenue is the KPI net revenue over the order''s ledger entries dated (entry_at) from 24 hours before until 72 hours after order_completed_at and recorded by the source (recorded_at) before that window ends, reversals included (the attribution window, macros/attribution.py): a function of the data alone, the same whether the intervals ran in one batch, hourly or restated; money booked later is finance''s, not attribution''s. Each run recomputes, whole, the orders completed in its interval (with the touchpoints lookback) and every order with a ledger entry booked in it, whatever its age: money the warehouse learns late still reaches the order''s figure, and the table is the same whether the intervals ran in one batch, hourly or restated.'
);

WITH recomputed AS (
  /* the orders this run recomputes, whole: those completed in the interval (touchpoints recomputes
     their touches for as long as its lookback) and those with a ledger entry booked in it, of any
     age (money the warehouse learns late); the statement after the query removes a touch that
     touchpoints no longer has for an order completed in the interval (a late event moved its
     session's landing event, so the session key changed): the merge by key updates and adds, that
     statement removes, and each order's credits keep summing to one */
  SELECT
    order_id
  FROM marts_marketing.touchpoints
  WHERE
    order_completed_at BETWEEN @start_dt AND @end_dt
  UNION
  SELECT
    order_id
  FROM marts_finance.revenue_ledger
  WHERE
    booked_at BETWEEN @start_dt AND @end_dt
), completed AS (
  /* one row per recomputed order with its completion time */
  SELECT DISTINCT
    t.order_id,
    t.order_completed_at
  FROM marts_marketing.touchpoints AS t
  JOIN recomputed AS r
    ON r.order_id = t.order_id
), window_revenue AS (
  /* the attribution window: the KPI net revenue over the order's ledger entries dated from
     24 hours before until 72 hours after order_completed_at and recorded by the source before
     the window ends (a refund entered later, whatever date it carries, is finance's), fixed per
     order so neither a batch boundary nor a later restatement enters the figure; an entry the
     warehouse books later than the window (a late landing) recomputes the order in the run that
     books it */
  SELECT
    c.order_id,
    @kpi_net_revenue(l.entry_type, l.amount) AS order_net_revenue
  FROM completed AS c
  JOIN marts_finance.revenue_ledger AS l
    ON l.order_id = c.order_id
    AND l.entry_at >= c.order_completed_at - @attribution_lead()
    AND l.entry_at < c.order_completed_at + @attribution_window()
    AND l.recorded_at < c.order_completed_at + @attribution_window()
  GROUP BY
    c.order_id
), orders AS (
  /* the order must exist in the shop; paid_at counts only inside the window, like its money */
  SELECT
    o.order_id,
    o.customer_id AS shop_customer_id,
    CASE
      WHEN o.paid_at >= c.order_completed_at - @attribution_lead()
      AND o.paid_at < c.order_completed_at + @attribution_window()
      THEN o.paid_at
    END AS paid_at,
    COALESCE(r.order_net_revenue, 0) AS order_net_revenue
  FROM staging.stg_shop__orders AS o
  JOIN completed AS c
    ON c.order_id = o.order_id
  LEFT JOIN window_revenue AS r
    ON r.order_id = o.order_id
), touches AS (
  SELECT
    t.*,
    o.shop_customer_id,
    o.paid_at,
    o.order_net_revenue,
    CASE WHEN t.touch_number = 1 THEN 1 ELSE 0 END AS credit_first_touch, /* credits; the last touch takes the rounding remainder so each rule sums to exactly 1 */
    CASE WHEN t.touch_number = t.touches_in_path THEN 1 ELSE 0 END AS credit_last_touch,
    CASE
      WHEN t.touch_number < t.touches_in_path
      THEN ROUND(1.0 / t.touches_in_path, 6)
      ELSE 1 - ROUND(1.0 / t.touches_in_path, 6) * (
        t.touches_in_path - 1
      )
    END AS credit_linear,
    CASE
      WHEN t.touches_in_path = 1
      THEN 1
      WHEN t.touches_in_path = 2
      THEN 0.5
      WHEN t.touch_number = 1
      THEN 0.4
      WHEN t.touch_number < t.touches_in_path
      THEN ROUND(0.2 / (
        t.touches_in_path - 2
      ), 6)
      ELSE 0.6 - ROUND(0.2 / (
        t.touches_in_path - 2
      ), 6) * (
        t.touches_in_path - 2
      )
    END AS credit_position_based
  FROM marts_marketing.touchpoints AS t
  JOIN orders AS o
    ON o.order_id = t.order_id
), rounded AS (
  SELECT
    *,
    ROUND(credit_first_touch * order_net_revenue, 2) AS rounded_first_touch,
    ROUND(credit_last_touch * order_net_revenue, 2) AS rounded_last_touch,
    ROUND(credit_linear * order_net_revenue, 2) AS rounded_linear,
    ROUND(credit_position_based * order_net_revenue, 2) AS rounded_position_based
  FROM touches
), allocated AS (
  /* money is rounded to cents per touch; the last touch gets the remainder, so the attributed
     revenue of an order adds up to its net revenue to the cent */
  SELECT
    *,
    order_net_revenue - COALESCE(
      SUM(rounded_first_touch) OVER (
        PARTITION BY order_id
        ORDER BY touch_number
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS rest_first_touch,
    order_net_revenue - COALESCE(
      SUM(rounded_last_touch) OVER (
        PARTITION BY order_id
        ORDER BY touch_number
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS rest_last_touch,
    order_net_revenue - COALESCE(
      SUM(rounded_linear) OVER (
        PARTITION BY order_id
        ORDER BY touch_number
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS rest_linear,
    order_net_revenue - COALESCE(
      SUM(rounded_position_based) OVER (
        PARTITION BY order_id
        ORDER BY touch_number
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS rest_position_based
  FROM rounded
)
SELECT
  order_id::BIGINT AS order_id, /* shop order id */
  session_key::VARCHAR AS session_key, /* touching session */
  order_completed_at::TIMESTAMP WITH TIME ZONE AS order_completed_at, /* UTC time of the order_completed event */
  COALESCE(shop_customer_id, customer_id)::BIGINT AS customer_id, /* buying customer (shop order) */
  paid_at::TIMESTAMP WITH TIME ZONE AS paid_at, /* UTC payment time of the order; NULL if not paid within the attribution window */
  session_started_at::TIMESTAMP WITH TIME ZONE AS session_started_at, /* UTC start of the touching session */
  touch_number::BIGINT AS touch_number, /* position of the touch on the path, 1 = first */
  touches_in_path::BIGINT AS touches_in_path, /* sessions on the path */
  channel::VARCHAR AS channel, /* channel of the touch */
  utm_source::VARCHAR AS utm_source, /* utm_source of the touch */
  utm_medium::VARCHAR AS utm_medium, /* utm_medium of the touch */
  utm_campaign::VARCHAR AS utm_campaign, /* utm_campaign of the touch */
  campaign_id::VARCHAR AS campaign_id, /* Salesforce Campaign Id, NULL if unknown */
  campaign_name::VARCHAR AS campaign_name, /* Salesforce campaign name */
  is_known_campaign::BOOLEAN AS is_known_campaign, /* false when utm_campaign is not a Salesforce campaign */
  credit_first_touch::DECIMAL(9, 6) AS credit_first_touch, /* first-touch credit: 1 for the first session, else 0 */
  credit_last_touch::DECIMAL(9, 6) AS credit_last_touch, /* last-touch credit: 1 for the converting session, else 0 */
  credit_linear::DECIMAL(9, 6) AS credit_linear, /* linear credit: 1/n each (last touch takes the rounding remainder) */
  credit_position_based::DECIMAL(9, 6) AS credit_position_based, /* position-based credit: 40% first, 40% last, 20% shared by the middle (50/50 for two touches) */
  @money(order_net_revenue) AS order_net_revenue, /* net revenue of the order: KPI net_revenue over its ledger entries booked in the attribution window, order_completed_at - 24 h to + 72 h */
  @money(
    CASE
      WHEN touch_number = touches_in_path
      THEN rest_first_touch
      ELSE rounded_first_touch
    END
  ) AS revenue_first_touch, /* net revenue attributed under first touch */
  @money(
    CASE
      WHEN touch_number = touches_in_path
      THEN rest_last_touch
      ELSE rounded_last_touch
    END
  ) AS revenue_last_touch, /* net revenue attributed under last touch */
  @money(
    CASE WHEN touch_number = touches_in_path THEN rest_linear ELSE rounded_linear END
  ) AS revenue_linear, /* net revenue attributed under linear */
  @money(
    CASE
      WHEN touch_number = touches_in_path
      THEN rest_position_based
      ELSE rounded_position_based
    END
  ) AS revenue_position_based /* net revenue attributed under position-based */
FROM allocated;

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    order_completed_at BETWEEN @start_dt AND @end_dt
    AND NOT (
      order_id::VARCHAR || '|' || session_key
    ) IN (
      SELECT
        t.order_id::VARCHAR || '|' || t.session_key
      FROM marts_marketing.touchpoints AS t
      WHERE
        t.order_completed_at BETWEEN @start_dt AND @end_dt
    )
);

AUDIT (
  name assert_attribution_credits_sum_to_one,
  blocking TRUE
);

/* every attributed order gives exactly 1 of credit, and exactly its net revenue, under each rule */
SELECT
  order_id,
  SUM(credit_first_touch) AS first_touch,
  SUM(credit_last_touch) AS last_touch,
  SUM(credit_linear) AS linear,
  SUM(credit_position_based) AS position_based
FROM @this_model
GROUP BY
  order_id
HAVING
  SUM(credit_first_touch) <> 1
  OR SUM(credit_last_touch) <> 1
  OR SUM(credit_linear) <> 1
  OR SUM(credit_position_based) <> 1
  OR SUM(revenue_first_touch) <> MAX(order_net_revenue)
  OR SUM(revenue_last_touch) <> MAX(order_net_revenue)
  OR SUM(revenue_linear) <> MAX(order_net_revenue)
  OR SUM(revenue_position_based) <> MAX(order_net_revenue)
