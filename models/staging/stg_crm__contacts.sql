MODEL (
  name staging.stg_crm__contacts,
  kind FULL,
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

/* Salesforce rows land as an append-only version log (id + systemmodstamp): take the latest
   version per id first, then drop records whose latest version is deleted. */
WITH versions AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY systemmodstamp DESC, _loaded_at DESC) AS version_rank
  FROM raw_crm.contact
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
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE)
