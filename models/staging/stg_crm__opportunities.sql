MODEL (
  name staging.stg_crm__opportunities,
  kind FULL,
  owner growth_data,
  cron '@hourly',
  grain opportunity_id,
  signals (
    sources_landed(sources := ARRAY['crm'])
  ),
  audits (
    not_null(columns := (
      opportunity_id
    )),
    unique_values(columns := (
      opportunity_id
    ))
  ),
  description 'Salesforce opportunities, current version. One row per opportunity (Salesforce Id), deleted opportunities removed.'
);

/* Salesforce rows land as an append-only version log (id + systemmodstamp): take the latest
   version per id first, then drop records whose latest version is deleted. */
WITH versions AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY systemmodstamp DESC, _loaded_at DESC) AS version_rank
  FROM raw_crm.opportunity
)
SELECT
  id::VARCHAR AS opportunity_id, /* Salesforce Opportunity Id (prefix 006) */
  accountid::VARCHAR AS account_id, /* Account Id */
  campaignid::VARCHAR AS campaign_id, /* primary Campaign Id, NULL if none */
  name::VARCHAR AS opportunity_name, /* opportunity name */
  stagename::VARCHAR AS stage_name, /* sales stage */
  amount::DECIMAL(12, 2) AS amount, /* opportunity amount, currency units */
  closedate::DATE AS close_date, /* expected or actual close day */
  systemmodstamp::TIMESTAMP WITH TIME ZONE AS system_modstamp /* UTC time Salesforce last changed the record (the version key) */
FROM versions
WHERE
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE)
