MODEL (
  name staging.stg_crm__leads,
  kind FULL,
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

/* Salesforce rows land as an append-only version log (id + systemmodstamp): take the latest
   version per id first, then drop records whose latest version is deleted. */
WITH versions AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY systemmodstamp DESC, _loaded_at DESC) AS version_rank
  FROM raw_crm.lead
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
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE)
