MODEL (
  name staging.stg_crm__campaign_members,
  kind FULL,
  owner growth_data,
  cron '@hourly',
  grain campaign_member_id,
  signals (
    sources_landed(sources := ARRAY['crm'])
  ),
  audits (
    not_null(columns := (
      campaign_member_id
    )),
    unique_values(columns := (
      campaign_member_id
    ))
  ),
  description 'Salesforce campaign members, current version. One row per campaign member (Salesforce Id), deleted members removed.'
);

/* Salesforce rows land as an append-only version log (id + systemmodstamp): take the latest
   version per id first, then drop records whose latest version is deleted. */
WITH versions AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY systemmodstamp DESC, _loaded_at DESC) AS version_rank
  FROM raw_crm.campaignmember
)
SELECT
  id::VARCHAR AS campaign_member_id, /* Salesforce CampaignMember Id (prefix 00v) */
  campaignid::VARCHAR AS campaign_id, /* Campaign Id */
  leadid::VARCHAR AS lead_id, /* Lead Id when the member is a lead, else NULL */
  contactid::VARCHAR AS contact_id, /* Contact Id when the member is a contact, else NULL */
  status::VARCHAR AS member_status, /* member status, e.g. Sent, Responded */
  systemmodstamp::TIMESTAMP WITH TIME ZONE AS system_modstamp /* UTC time Salesforce last changed the record (the version key) */
FROM versions
WHERE
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE)
