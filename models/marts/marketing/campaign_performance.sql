MODEL (
  name marts_marketing.campaign_performance,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column performance_date,
    lookback 3 /* spend files may be corrected and attributed orders recomputed for 3 days */
  ),
  owner growth_data,
  cron '@daily',
  signals (
    sources_landed(sources := ARRAY['events', 'shop', 'crm', 'marketing'])
  ),
  grain (performance_date, utm_campaign),
  audits (
    not_null(
      columns := (performance_date, utm_campaign, spend, sessions, orders, new_customers)
    ),
    unique_combination_of_columns(columns := (performance_date, utm_campaign)),
    forall(criteria := (spend >= 0, sessions >= 0, orders >= 0, new_customers >= 0)),
    assert_references(
      "column" := utm_campaign,
      parent := staging.stg_crm__campaigns,
      parent_column := utm_campaign,
      blocking := FALSE
    )
  ),
  description 'Daily campaign performance with CAC, ROAS and conversion rate from the shared KPI macros. One row per UTC day and campaign (utm_campaign) that had spend, sessions, attributed revenue or new customers that day; sessions and orders count by session start day, attributed revenue by order day, new customers by acquisition day.'
);

WITH campaigns AS (
  /* one Salesforce campaign per utm_campaign value: the most recently started one */
  SELECT
    campaign_id,
    campaign_name,
    campaign_type,
    budgeted_cost,
    actual_cost,
    utm_campaign
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY utm_campaign ORDER BY start_date DESC, campaign_id) AS campaign_rank
    FROM staging.stg_crm__campaigns
    WHERE
      NOT utm_campaign IS NULL
  ) AS ranked
  WHERE
    campaign_rank = 1
), spend AS (
  SELECT
    spend_date AS performance_date,
    utm_campaign,
    SUM(spend) AS spend,
    SUM(clicks) AS clicks,
    SUM(impressions) AS impressions
  FROM staging.stg_marketing__ad_spend
  WHERE
    spend_date BETWEEN @start_ds AND @end_ds
  GROUP BY
    spend_date,
    utm_campaign
), traffic AS (
  SELECT
    session_date AS performance_date,
    utm_campaign,
    COUNT(*) AS sessions,
    SUM(orders_count) AS orders
  FROM marts_marketing.sessions
  WHERE
    session_started_at BETWEEN @start_dt AND @end_dt AND NOT utm_campaign IS NULL
  GROUP BY
    session_date,
    utm_campaign
), revenue AS (
  SELECT
    order_completed_at::DATE AS performance_date,
    utm_campaign,
    SUM(credit_last_touch) AS attributed_orders_last_touch,
    SUM(revenue_first_touch) AS revenue_first_touch,
    SUM(revenue_last_touch) AS revenue_last_touch,
    SUM(revenue_linear) AS revenue_linear,
    SUM(revenue_position_based) AS revenue_position_based
  FROM marts_marketing.attribution
  WHERE
    order_completed_at BETWEEN @start_dt AND @end_dt AND NOT utm_campaign IS NULL
  GROUP BY
    order_completed_at::DATE,
    utm_campaign
), acquired AS (
  SELECT
    acquisition_date AS performance_date,
    first_touch_utm_campaign AS utm_campaign,
    @kpi_new_customers(customer_id, TRUE) AS new_customers
  FROM marts_marketing.customer_acquisition
  WHERE
    acquisition_date BETWEEN @start_ds AND @end_ds
    AND NOT first_touch_utm_campaign IS NULL
  GROUP BY
    acquisition_date,
    first_touch_utm_campaign
), keys AS (
  SELECT
    performance_date,
    utm_campaign
  FROM spend
  UNION
  SELECT
    performance_date,
    utm_campaign
  FROM traffic
  UNION
  SELECT
    performance_date,
    utm_campaign
  FROM revenue
  UNION
  SELECT
    performance_date,
    utm_campaign
  FROM acquired
), daily AS (
  SELECT
    k.performance_date,
    k.utm_campaign,
    c.campaign_id,
    c.campaign_name,
    c.campaign_type,
    c.budgeted_cost,
    c.actual_cost,
    COALESCE(s.spend, 0) AS spend,
    COALESCE(s.clicks, 0) AS clicks,
    COALESCE(s.impressions, 0) AS impressions,
    COALESCE(t.sessions, 0) AS sessions,
    COALESCE(t.orders, 0) AS orders,
    COALESCE(a.new_customers, 0) AS new_customers,
    COALESCE(r.attributed_orders_last_touch, 0) AS attributed_orders_last_touch,
    COALESCE(r.revenue_first_touch, 0) AS revenue_first_touch,
    COALESCE(r.revenue_last_touch, 0) AS revenue_last_touch,
    COALESCE(r.revenue_linear, 0) AS revenue_linear,
    COALESCE(r.revenue_position_based, 0) AS revenue_position_based
  FROM keys AS k
  LEFT JOIN campaigns AS c
    ON c.utm_campaign = k.utm_campaign
  LEFT JOIN spend AS s
    ON s.performance_date = k.performance_date AND s.utm_campaign = k.utm_campaign
  LEFT JOIN traffic AS t
    ON t.performance_date = k.performance_date AND t.utm_campaign = k.utm_campaign
  LEFT JOIN revenue AS r
    ON r.performance_date = k.performance_date AND r.utm_campaign = k.utm_campaign
  LEFT JOIN acquired AS a
    ON a.performance_date = k.performance_date AND a.utm_campaign = k.utm_campaign
)
SELECT
  performance_date::DATE AS performance_date, /* UTC day */
  utm_campaign::VARCHAR AS utm_campaign, /* campaign as its utm_campaign value (the key shared by links, spend CSV and Salesforce) */
  campaign_id::VARCHAR AS campaign_id, /* Salesforce Campaign Id; NULL when Salesforce has no campaign with this utm_campaign__c */
  campaign_name::VARCHAR AS campaign_name, /* Salesforce campaign name */
  campaign_type::VARCHAR AS campaign_type, /* Salesforce campaign type */
  @money(budgeted_cost) AS budgeted_cost, /* Salesforce BudgetedCost of the whole campaign (not per day) */
  @money(actual_cost) AS actual_cost, /* Salesforce ActualCost to date of the whole campaign (not per day) */
  @money(spend) AS spend, /* ad spend that day, all platforms */
  clicks::BIGINT AS clicks, /* ad clicks that day */
  impressions::BIGINT AS impressions, /* ad impressions that day */
  sessions::BIGINT AS sessions, /* sessions that landed with this utm_campaign that day */
  orders::BIGINT AS orders, /* orders completed in those sessions */
  new_customers::BIGINT AS new_customers, /* customers acquired that day whose first touch was this campaign (KPI new_customers) */
  attributed_orders_last_touch::DECIMAL(18, 6) AS attributed_orders_last_touch, /* orders of that day credited to the campaign under last touch */
  @money(revenue_first_touch) AS revenue_first_touch, /* net revenue of that day's orders attributed to the campaign, first touch */
  @money(revenue_last_touch) AS revenue_last_touch, /* same, last touch */
  @money(revenue_linear) AS revenue_linear, /* same, linear */
  @money(revenue_position_based) AS revenue_position_based, /* same, position-based 40/20/40 */
  @kpi_cac(spend, new_customers) AS cac, /* KPI CAC: spend / new customers; NULL without new customers */
  @kpi_roas(revenue_first_touch, spend) AS roas_first_touch, /* KPI ROAS under first touch: attributed net revenue / spend; NULL without spend */
  @kpi_roas(revenue_last_touch, spend) AS roas_last_touch, /* KPI ROAS under last touch */
  @kpi_roas(revenue_linear, spend) AS roas_linear, /* KPI ROAS under linear */
  @kpi_roas(revenue_position_based, spend) AS roas_position_based, /* KPI ROAS under position-based */
  @kpi_conversion_rate(orders, sessions) AS conversion_rate /* KPI conversion rate: orders / sessions; NULL without sessions */
FROM daily
