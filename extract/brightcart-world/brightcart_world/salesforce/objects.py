"""The six CRM objects the emulator serves, their fields and Salesforce field types.

The backing tables are `sfdc."<Object>"` (see brightcart_world/sql/sfdc.sql); column names equal
the field names. Types are the ones tap-salesforce maps to JSON schema (id, boolean, string,
email, picklist, reference, datetime, date, currency, double).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_VERSION = "61.0"

_SYSTEM_FIELDS: tuple[tuple[str, str], ...] = (
    ("Id", "id"),
    ("IsDeleted", "boolean"),
    ("CreatedDate", "datetime"),
    ("LastModifiedDate", "datetime"),
    ("SystemModstamp", "datetime"),
)


@dataclass(frozen=True)
class SObject:
    """One object: its name, 3-character key prefix and fields in describe order."""

    name: str
    key_prefix: str
    own_fields: tuple[tuple[str, str], ...]

    @property
    def fields(self) -> dict[str, str]:
        """Field name -> Salesforce type, system fields first (as describe lists them)."""
        return dict(_SYSTEM_FIELDS[:2] + self.own_fields + _SYSTEM_FIELDS[2:])


OBJECTS: dict[str, SObject] = {
    o.name: o
    for o in (
        SObject(
            "Account",
            "001",
            (
                ("Name", "string"),
                ("Type", "picklist"),
                ("BillingCountry", "string"),
                ("Seller_Id__c", "double"),
            ),
        ),
        SObject(
            "Contact",
            "003",
            (
                ("AccountId", "reference"),
                ("FirstName", "string"),
                ("LastName", "string"),
                ("Email", "email"),
            ),
        ),
        SObject(
            "Lead",
            "00Q",
            (
                ("FirstName", "string"),
                ("LastName", "string"),
                ("Email", "email"),
                ("Company", "string"),
                ("Status", "picklist"),
                ("LeadSource", "picklist"),
            ),
        ),
        SObject(
            "Campaign",
            "701",
            (
                ("Name", "string"),
                ("Type", "picklist"),
                ("Status", "picklist"),
                ("IsActive", "boolean"),
                ("StartDate", "date"),
                ("EndDate", "date"),
                ("BudgetedCost", "currency"),
                ("ActualCost", "currency"),
                ("utm_campaign__c", "string"),
                ("utm_source__c", "string"),
                ("utm_medium__c", "string"),
            ),
        ),
        SObject(
            "CampaignMember",
            "00v",
            (
                ("CampaignId", "reference"),
                ("LeadId", "reference"),
                ("ContactId", "reference"),
                ("Status", "picklist"),
            ),
        ),
        SObject(
            "Opportunity",
            "006",
            (
                ("AccountId", "reference"),
                ("CampaignId", "reference"),
                ("Name", "string"),
                ("StageName", "picklist"),
                ("Amount", "currency"),
                ("CloseDate", "date"),
            ),
        ),
    )
}

_REFERENCE_TARGETS = {
    "AccountId": "Account",
    "CampaignId": "Campaign",
    "LeadId": "Lead",
    "ContactId": "Contact",
}


def sobjects_list() -> dict[str, Any]:
    """Body of GET /services/data/vXX.X/sobjects."""
    base = f"/services/data/v{API_VERSION}/sobjects"
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            {
                "name": o.name,
                "label": o.name,
                "keyPrefix": o.key_prefix,
                "custom": False,
                "customSetting": False,
                "queryable": True,
                "retrieveable": True,
                "replicateable": True,
                "urls": {
                    "sobject": f"{base}/{o.name}",
                    "describe": f"{base}/{o.name}/describe",
                },
            }
            for o in OBJECTS.values()
        ],
    }


def _describe_field(name: str, sf_type: str) -> dict[str, Any]:
    system = name in {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
    return {
        "name": name,
        "label": name,
        "type": sf_type,
        "custom": name.endswith("__c"),
        "nillable": not system and sf_type != "boolean",
        "createable": not system,
        "updateable": not system,
        "filterable": True,
        "sortable": True,
        "length": 18 if sf_type in {"id", "reference"} else (255 if sf_type == "string" else 0),
        "referenceTo": [_REFERENCE_TARGETS[name]] if sf_type == "reference" else [],
        "relationshipName": name[:-2] if sf_type == "reference" else None,
    }


def describe(obj: SObject) -> dict[str, Any]:
    """Body of GET /services/data/vXX.X/sobjects/<Object>/describe."""
    return {
        "name": obj.name,
        "label": obj.name,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "customSetting": False,
        "queryable": True,
        "replicateable": True,
        "fields": [_describe_field(n, t) for n, t in obj.fields.items()],
    }
