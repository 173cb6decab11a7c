MODEL (
  name staging.stg_crm__campaigns,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key campaign_id
  ),
  owner growth_data,
  cron '@hourly',
  grain campaign_id,
  signals (
    sources_landed(sources := ARRAY['crm'])
  ),
  audits (
    not_null(columns := (
      campaign_id
    )),
    unique_values(columns := (
      campaign_id
    ))
  ),
  description 'Salesforce campaigns, current version. One row per campaign (Salesforce Id), deleted campaigns removed; utm_campaign joins the clickstream and ad spend.'
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
  FROM raw_crm.campaign
  WHERE
    id IN (@changed_keys('crm', raw_crm.campaign, id, @start_ts))
)
SELECT
  id::VARCHAR AS campaign_id, /* Salesforce Campaign Id (prefix 701) */
  name::VARCHAR AS campaign_name, /* campaign name */
  "type"::VARCHAR AS campaign_type, /* campaign type, e.g. Paid Search, Paid Social, Email */
  status::VARCHAR AS campaign_status, /* Salesforce status, e.g. Planned, In Progress, Completed */
  isactive::BOOLEAN AS is_active, /* Salesforce IsActive flag */
  startdate::DATE AS start_date, /* planned start day */
  enddate::DATE AS end_date, /* planned end day */
  budgetedcost::DECIMAL(12, 2) AS budgeted_cost, /* BudgetedCost: planned spend over the campaign, currency units */
  actualcost::DECIMAL(12, 2) AS actual_cost, /* ActualCost: cumulative spend synced hourly from the ad platforms */
  NULLIF(utm_campaign__c, '')::VARCHAR AS utm_campaign, /* utm_campaign__c: the utm_campaign value used in links and in the spend CSV */
  NULLIF(utm_source__c, '')::VARCHAR AS utm_source, /* utm_source__c */
  NULLIF(utm_medium__c, '')::VARCHAR AS utm_medium, /* utm_medium__c */
  systemmodstamp::TIMESTAMP WITH TIME ZONE AS system_modstamp /* UTC time Salesforce last changed the record (the version key) */
FROM versions
WHERE
  version_rank = 1 AND NOT COALESCE(isdeleted, FALSE);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    campaign_id IN (@deleted_keys('crm', raw_crm.campaign, id, @start_ts))
)
