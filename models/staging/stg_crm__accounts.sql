MODEL (
  name staging.stg_crm__accounts,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key account_id
  ),
  owner growth_data,
  cron '@hourly',
  grain account_id,
  signals (
    sources_landed(sources := ARRAY['crm'])
  ),
  audits (
    not_null(columns := (
      account_id
    )),
    unique_values(columns := (
      account_id
    ))
  ),
  description 'Salesforce accounts (sellers), current version. One row per account (Salesforce Id), deleted accounts removed.'
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
  FROM raw_crm.account
  WHERE
    id IN (@changed_keys('crm', raw_crm.account, id, @start_ts))
)
SELECT
  id::VARCHAR AS account_id, /* Salesforce Account Id (prefix 001) */
  name::VARCHAR AS account_name, /* account name */
  "type"::VARCHAR AS account_type, /* account type (Seller) */
  billingcountry::VARCHAR AS billing_country, /* billing country */
  seller_id__c::BIGINT AS seller_id, /* Seller_Id__c: the shop seller_id this account represents */
  systemmodstamp::TIMESTAMP WITH TIME ZONE AS system_modstamp /* UTC time Salesforce last changed the record (the version key) */
FROM versions
WHERE
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    account_id IN (@deleted_keys('crm', raw_crm.account, id, @start_ts))
)
