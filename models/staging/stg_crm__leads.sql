MODEL (
  name staging.stg_crm__leads,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key lead_id
  ),
  owner growth_data,
  cron '@hourly',
  grain lead_id,
  signals (
    sources_landed(sources := ARRAY['crm'])
  ),
  audits (not_null(columns := (
      lead_id
    )), unique_values(columns := (
      lead_id
  ))),
  description 'Salesforce leads, current version. One row per lead (Salesforce Id), deleted leads removed.'
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
  FROM raw_crm.lead
  WHERE
    id IN (@changed_keys('crm', raw_crm.lead, id, @start_ts))
)
SELECT
  id::VARCHAR AS lead_id, /* Salesforce Lead Id (prefix 00Q) */
  firstname::VARCHAR AS first_name, /* first name */
  lastname::VARCHAR AS last_name, /* last name */
  LOWER(email)::VARCHAR AS email, /* email, lower-cased for matching */
  company::VARCHAR AS company, /* company name */
  status::VARCHAR AS lead_status, /* lead status */
  leadsource::VARCHAR AS lead_source, /* LeadSource */
  systemmodstamp::TIMESTAMP WITH TIME ZONE AS system_modstamp /* UTC time Salesforce last changed the record (the version key) */
FROM versions
WHERE
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    lead_id IN (@deleted_keys('crm', raw_crm.lead, id, @start_ts))
)
