MODEL (
  name staging.stg_crm__contacts,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key contact_id
  ),
  owner growth_data,
  cron '@hourly',
  grain contact_id,
  signals (
    sources_landed(sources := ARRAY['crm'])
  ),
  audits (
    not_null(columns := (
      contact_id
    )),
    unique_values(columns := (
      contact_id
    ))
  ),
  description 'Salesforce contacts, current version. One row per contact (Salesforce Id), deleted contacts removed.'
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
  FROM raw_crm.contact
  WHERE
    id IN (@changed_keys('crm', raw_crm.contact, id, @start_ts))
)
SELECT
  id::VARCHAR AS contact_id, /* Salesforce Contact Id (prefix 003) */
  accountid::VARCHAR AS account_id, /* parent Account Id */
  firstname::VARCHAR AS first_name, /* first name */
  lastname::VARCHAR AS last_name, /* last name */
  LOWER(email)::VARCHAR AS email, /* email, lower-cased for matching */
  systemmodstamp::TIMESTAMP WITH TIME ZONE AS system_modstamp /* UTC time Salesforce last changed the record (the version key) */
FROM versions
WHERE
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    contact_id IN (@deleted_keys('crm', raw_crm.contact, id, @start_ts))
)
