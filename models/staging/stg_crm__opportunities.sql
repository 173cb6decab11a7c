MODEL (
  name staging.stg_crm__opportunities,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key opportunity_id
  ),
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

/* Salesforce rows land as an append-only version log (id + systemmodstamp). Each run recomputes
   the records with a version known (systemmodstamp) since its interval's start: the latest version
   of each over the whole log, merged by id; the statement after the query removes those whose
   latest version is deleted. The first run (and a restatement, which SQLMesh runs whole for this
   kind) reads every version. */
WITH versions AS (
  SELECT
    *,
    @version_rank('crm', id) AS version_rank
  FROM raw_crm.opportunity
  WHERE
    id IN (@changed_keys('crm', raw_crm.opportunity, id, @start_ts))
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
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    opportunity_id IN (@deleted_keys('crm', raw_crm.opportunity, id, @start_ts))
)
