MODEL (
  name bi.marketing_campaigns,
  kind VIEW,
  owner growth_data,
  cron '@daily',
  grain (performance_date, utm_campaign),
  audits (
    not_null(columns := (performance_date, utm_campaign))
  ),
  description 'Dashboard dataset marketing_campaigns: daily spend, traffic, new customers, attributed revenue, CAC, ROAS and conversion rate. One row per UTC day and campaign (utm_campaign).'
);

SELECT
  performance_date, /* UTC day */
  utm_campaign, /* campaign as its utm_campaign value */
  campaign_id, /* Salesforce Campaign Id, NULL if unknown to Salesforce */
  campaign_name, /* Salesforce campaign name */
  campaign_type, /* Salesforce campaign type */
  budgeted_cost, /* Salesforce budget of the whole campaign */
  actual_cost, /* Salesforce actual cost to date of the whole campaign */
  spend, /* ad spend that day */
  clicks, /* ad clicks that day */
  impressions, /* ad impressions that day */
  sessions, /* sessions landing with the campaign that day */
  orders, /* orders completed in those sessions */
  new_customers, /* customers acquired that day with this campaign as first touch */
  revenue_first_touch, /* attributed net revenue, first touch */
  revenue_last_touch, /* attributed net revenue, last touch */
  revenue_linear, /* attributed net revenue, linear */
  revenue_position_based, /* attributed net revenue, position-based */
  cac, /* CAC = spend / new customers */
  roas_first_touch, /* ROAS, first touch */
  roas_last_touch, /* ROAS, last touch */
  roas_linear, /* ROAS, linear */
  roas_position_based, /* ROAS, position-based */
  conversion_rate /* conversion rate = orders / sessions */
FROM marts_marketing.campaign_performance
