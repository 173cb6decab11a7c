-- Backing store of the Salesforce emulator: one table per object, columns named exactly as the
-- Salesforce fields. The generator writes here; the emulator serves it over the REST API.
CREATE SCHEMA IF NOT EXISTS sfdc;

CREATE TABLE IF NOT EXISTS sfdc."Account" (
    "Id" varchar(18) PRIMARY KEY,
    "IsDeleted" boolean NOT NULL DEFAULT false,
    "Name" text NOT NULL,
    "Type" text,
    "BillingCountry" text,
    "Seller_Id__c" double precision,
    "CreatedDate" timestamptz NOT NULL,
    "LastModifiedDate" timestamptz NOT NULL,
    "SystemModstamp" timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sfdc."Contact" (
    "Id" varchar(18) PRIMARY KEY,
    "IsDeleted" boolean NOT NULL DEFAULT false,
    "AccountId" varchar(18) REFERENCES sfdc."Account" ("Id"),
    "FirstName" text,
    "LastName" text NOT NULL,
    "Email" text,
    "CreatedDate" timestamptz NOT NULL,
    "LastModifiedDate" timestamptz NOT NULL,
    "SystemModstamp" timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sfdc."Lead" (
    "Id" varchar(18) PRIMARY KEY,
    "IsDeleted" boolean NOT NULL DEFAULT false,
    "FirstName" text,
    "LastName" text NOT NULL,
    "Email" text,
    "Company" text NOT NULL,
    "Status" text NOT NULL,
    "LeadSource" text,
    "CreatedDate" timestamptz NOT NULL,
    "LastModifiedDate" timestamptz NOT NULL,
    "SystemModstamp" timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sfdc."Campaign" (
    "Id" varchar(18) PRIMARY KEY,
    "IsDeleted" boolean NOT NULL DEFAULT false,
    "Name" text NOT NULL,
    "Type" text,
    "Status" text,
    "IsActive" boolean NOT NULL DEFAULT true,
    "StartDate" date,
    "EndDate" date,
    "BudgetedCost" numeric(18, 2),
    "ActualCost" numeric(18, 2),
    "utm_campaign__c" text,
    "utm_source__c" text,
    "utm_medium__c" text,
    "CreatedDate" timestamptz NOT NULL,
    "LastModifiedDate" timestamptz NOT NULL,
    "SystemModstamp" timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sfdc."CampaignMember" (
    "Id" varchar(18) PRIMARY KEY,
    "IsDeleted" boolean NOT NULL DEFAULT false,
    "CampaignId" varchar(18) NOT NULL REFERENCES sfdc."Campaign" ("Id"),
    "LeadId" varchar(18) REFERENCES sfdc."Lead" ("Id"),
    "ContactId" varchar(18) REFERENCES sfdc."Contact" ("Id"),
    "Status" text,
    "CreatedDate" timestamptz NOT NULL,
    "LastModifiedDate" timestamptz NOT NULL,
    "SystemModstamp" timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sfdc."Opportunity" (
    "Id" varchar(18) PRIMARY KEY,
    "IsDeleted" boolean NOT NULL DEFAULT false,
    "AccountId" varchar(18) REFERENCES sfdc."Account" ("Id"),
    "CampaignId" varchar(18) REFERENCES sfdc."Campaign" ("Id"),
    "Name" text NOT NULL,
    "StageName" text NOT NULL,
    "Amount" numeric(18, 2),
    "CloseDate" date,
    "CreatedDate" timestamptz NOT NULL,
    "LastModifiedDate" timestamptz NOT NULL,
    "SystemModstamp" timestamptz NOT NULL
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['Account', 'Contact', 'Lead', 'Campaign', 'CampaignMember', 'Opportunity'] LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON sfdc.%I ("SystemModstamp")', t || '_systemmodstamp_idx', t);
    END LOOP;
END $$;
