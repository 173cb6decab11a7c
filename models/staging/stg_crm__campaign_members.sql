MODEL (
  name staging.stg_crm__campaign_members,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key campaign_member_id
  ),
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

/* Salesforce rows land as an append-only version log (id + systemmodstamp). Each run recomputes
   the records with a version known (systemmodstamp) since its interval's start: the latest version
   of each over the whole log, merged by id; the statement after the query removes those whose
   latest version is deleted. The first run (and a restatement, which SQLMesh runs whole for this
   kind) reads every version. */
WITH versions AS (
  SELECT
    *,
    @version_rank('crm', id) AS version_rank
  FROM raw_crm.campaignmember
  WHERE
    id IN (@changed_keys('crm', raw_crm.campaignmember, id, @start_ts))
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
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    campaign_member_id IN (@deleted_keys('crm', raw_crm.campaignmember, id, @start_ts))
)
