MODEL (
  name staging.stg_marketing__ad_spend,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column spend_date,
    lookback 7 /* a corrected CSV for a past day may be dropped up to a week later */
  ),
  owner growth_data,
  cron '@daily',
  grain (spend_date, platform, utm_campaign),
  signals (
    sources_landed(sources := ARRAY['marketing'])
  ),
  audits (
    not_null(columns := (spend_date, platform, utm_campaign, spend)),
    unique_combination_of_columns(columns := (spend_date, platform, utm_campaign))
  ),
  description 'Daily advertising spend from the ad platforms'' CSV drops. One row per UTC day, platform and campaign (utm_campaign); when several files carry the same day, platform and campaign, the latest file wins.'
);

/* tap-s3-csv lands CSV fields as text or inferred types: cast every field explicitly. */
WITH versions AS (
  SELECT
    "date"::DATE AS spend_date,
    platform::VARCHAR AS platform,
    campaign::VARCHAR AS campaign,
    spend,
    clicks,
    impressions,
    _sdc_source_file,
    ROW_NUMBER() OVER (
      PARTITION BY "date"::DATE, platform, campaign
      ORDER BY _sdc_source_file DESC, _loaded_at DESC
    ) AS file_rank
  FROM raw_marketing.ad_spend
  WHERE
    "date"::DATE BETWEEN @start_ds AND @end_ds
)
SELECT
  spend_date::DATE AS spend_date, /* UTC day the money was spent */
  LOWER(platform)::VARCHAR AS platform, /* ad platform (google, facebook, instagram, tiktok, email) */
  campaign::VARCHAR AS utm_campaign, /* campaign as its utm_campaign value; joins Campaign.utm_campaign__c */
  spend::DECIMAL(12, 2) AS spend, /* spend that day, account currency, DECIMAL(12,2) */
  clicks::BIGINT AS clicks, /* clicks that day */
  impressions::BIGINT AS impressions, /* impressions that day */
  _sdc_source_file::VARCHAR AS source_file /* CSV object the winning row came from (lineage) */
FROM versions
WHERE
  file_rank = 1
