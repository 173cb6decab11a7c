MODEL (
  name staging.stg_crm__accounts,
  kind FULL,
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

/* Salesforce rows land as an append-only version log (id + systemmodstamp): take the latest
   version per id first, then drop records whose latest version is deleted. */
WITH versions AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY systemmodstamp DESC, _loaded_at DESC) AS version_rank
  FROM raw_crm.account
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
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE)
