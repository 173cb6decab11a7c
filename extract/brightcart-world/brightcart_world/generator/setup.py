"""The world as it stands before the window: sellers, products, customers and the CRM."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from brightcart_world.generator import catalog
from brightcart_world.generator.copying import copy_rows
from brightcart_world.generator.database import Sequences, set_clock_setting
from brightcart_world.generator.rng import salesforce_id, stream
from brightcart_world.generator.spend import CampaignRef, daily_spend, hourly_share
from brightcart_world.generator.volumes import Volumes

CENT = Decimal("0.01")
CAMPAIGN_LEAD_DAYS = 30


def make_customer(rng: random.Random, customer_id: int, created_at: datetime) -> tuple[object, ...]:
    first = rng.choice(catalog.FIRST_NAMES)
    last = rng.choice(catalog.LAST_NAMES)
    country = rng.choices(catalog.COUNTRY_CODES, catalog.COUNTRY_WEIGHTS)[0]
    city = rng.choice(catalog.COUNTRIES[country][0])
    email = f"{first}.{last}.{customer_id}@mail.example".lower()
    return (customer_id, email, first, last, country, city, rng.random() < 0.4, created_at)


CUSTOMER_COLUMNS = (
    "customer_id",
    "email",
    "first_name",
    "last_name",
    "country_code",
    "city",
    "marketing_opt_in",
    "created_at",
)


def campaign_refs(seed: int, n: int, year: int) -> list[CampaignRef]:
    refs = []
    for i in range(n):
        stem, source, medium, _ = catalog.CAMPAIGN_TEMPLATES[i % len(catalog.CAMPAIGN_TEMPLATES)]
        round_no = i // len(catalog.CAMPAIGN_TEMPLATES)
        utm = f"{stem}_{year}" if round_no == 0 else f"{stem}_{year}_{round_no + 1}"
        refs.append(CampaignRef(salesforce_id("701", i + 1), utm, source, medium))
    return refs


def seed_world(conn: psycopg.Connection, seed: int, scale: float, start: datetime) -> None:
    """Write the entities that exist before `start`; everything is stamped one second before."""
    vol = Volumes(scale)
    seq = Sequences(conn)
    before = start - timedelta(seconds=1)
    set_clock_setting(conn, before)
    rng = stream(seed, "setup")

    sellers = []
    accounts = []
    for _ in range(vol.sellers):
        sid = seq.take("seller")
        country = rng.choices(catalog.COUNTRY_CODES, catalog.COUNTRY_WEIGHTS)[0]
        name = f"{rng.choice(catalog.LAST_NAMES)} {rng.choice(catalog.SELLER_WORDS)} {sid}"
        rate = Decimal(str(rng.choice((0.08, 0.10, 0.12, 0.15)))).quantize(Decimal("0.0001"))
        created = start - timedelta(days=rng.randint(60, 900), seconds=rng.randint(0, 86399))
        account_id = salesforce_id("001", sid)
        sellers.append((sid, name, country, rate, account_id, created))
        accounts.append((account_id, name, "Seller", country, float(sid), created, before, before))
    copy_rows(
        conn,
        "shop.sellers",
        (
            "seller_id",
            "name",
            "country_code",
            "commission_rate",
            "salesforce_account_id",
            "created_at",
        ),
        sellers,
    )

    products = []
    for _ in range(vol.products):
        pid = seq.take("product")
        category = rng.choice(tuple(catalog.CATEGORIES))
        nouns, low, high = catalog.CATEGORIES[category]
        name = f"{rng.choice(catalog.ADJECTIVES)} {rng.choice(nouns)}"
        price = (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT)
        seller = sellers[rng.randrange(len(sellers))][0]
        created = start - timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86399))
        products.append(
            (pid, seller, f"SKU-{pid:07d}", name, category, price, rng.random() < 0.97, created)
        )
    copy_rows(
        conn,
        "shop.products",
        ("product_id", "seller_id", "sku", "name", "category", "price", "active", "created_at"),
        products,
    )

    customers = []
    for _ in range(vol.initial_customers):
        cid = seq.take("customer")
        created = start - timedelta(days=rng.randint(1, 730), seconds=rng.randint(0, 86399))
        customers.append(make_customer(rng, cid, created))
    copy_rows(conn, "shop.customers", CUSTOMER_COLUMNS, customers)

    _seed_crm(conn, seed, scale, start, vol, seq, accounts, rng)
    seq.save(conn)


def _seed_crm(
    conn: psycopg.Connection,
    seed: int,
    scale: float,
    start: datetime,
    vol: Volumes,
    seq: Sequences,
    accounts: list[tuple[Any, ...]],
    rng: random.Random,
) -> None:
    before = start - timedelta(seconds=1)
    stamp_cols = ("CreatedDate", "LastModifiedDate", "SystemModstamp")
    copy_rows(
        conn,
        "sfdc.Account",
        ("Id", "Name", "Type", "BillingCountry", "Seller_Id__c", *stamp_cols),
        accounts,
    )

    contacts = []
    for account in accounts:
        for _ in range(rng.randint(1, 2)):
            n = seq.take("sf_contact")
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            contacts.append(
                (
                    salesforce_id("003", n),
                    account[0],
                    first,
                    last,
                    f"{first}.{last}.c{n}@seller.example".lower(),
                    account[5],
                    before,
                    before,
                )
            )
    copy_rows(
        conn,
        "sfdc.Contact",
        ("Id", "AccountId", "FirstName", "LastName", "Email", *stamp_cols),
        contacts,
    )

    campaign_start: date = (start - timedelta(days=CAMPAIGN_LEAD_DAYS)).date()
    refs = campaign_refs(seed, vol.campaigns, start.year)
    campaigns = []
    for i, ref in enumerate(refs):
        seq.take("sf_campaign")
        ctype = catalog.CAMPAIGN_TEMPLATES[i % len(catalog.CAMPAIGN_TEMPLATES)][3]
        spent = sum(
            (
                daily_spend(seed, scale, ref, campaign_start + timedelta(days=d)).spend
                for d in range(CAMPAIGN_LEAD_DAYS)
            ),
            Decimal(0),
        )
        if start.hour:  # a window that starts mid-day: the day's spend so far is already booked
            spent += hourly_share(daily_spend(seed, scale, ref, start.date()).spend, start.hour - 1)
        budget = (spent * 5).quantize(Decimal(1), ROUND_HALF_UP)
        created = datetime.combine(campaign_start, datetime.min.time(), start.tzinfo) - timedelta(
            days=3
        )
        campaigns.append(
            (
                ref.id,
                ref.utm_campaign.replace("_", " ").title(),
                ctype,
                "In Progress",
                True,
                campaign_start,
                campaign_start + timedelta(days=150),
                budget,
                spent,
                ref.utm_campaign,
                ref.utm_source,
                ref.utm_medium,
                created,
                before,
                before,
            )
        )
    copy_rows(
        conn,
        "sfdc.Campaign",
        (
            "Id",
            "Name",
            "Type",
            "Status",
            "IsActive",
            "StartDate",
            "EndDate",
            "BudgetedCost",
            "ActualCost",
            "utm_campaign__c",
            "utm_source__c",
            "utm_medium__c",
            *stamp_cols,
        ),
        campaigns,
    )

    leads = []
    members = []
    for _ in range(vol.leads):
        n = seq.take("sf_lead")
        first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
        lead_id = salesforce_id("00Q", n)
        created = start - timedelta(days=rng.randint(1, 120), seconds=rng.randint(0, 86399))
        leads.append(
            (
                lead_id,
                first,
                last,
                f"{first}.{last}.l{n}@prospect.example".lower(),
                f"{last} {rng.choice(catalog.SELLER_WORDS)}",
                rng.choice(catalog.LEAD_STATUSES[:2]),
                rng.choice(catalog.LEAD_SOURCES),
                created,
                before,
                before,
            )
        )
        if rng.random() < 0.7:
            m = seq.take("sf_campaign_member")
            members.append(
                (
                    salesforce_id("00v", m),
                    rng.choice(refs).id,
                    lead_id,
                    None,
                    "Responded" if rng.random() < 0.5 else "Sent",
                    created,
                    before,
                    before,
                )
            )
    copy_rows(
        conn,
        "sfdc.Lead",
        ("Id", "FirstName", "LastName", "Email", "Company", "Status", "LeadSource", *stamp_cols),
        leads,
    )
    copy_rows(
        conn,
        "sfdc.CampaignMember",
        ("Id", "CampaignId", "LeadId", "ContactId", "Status", *stamp_cols),
        members,
    )

    opportunities = []
    for account in accounts:
        if rng.random() < 0.5:
            n = seq.take("sf_opportunity")
            close = (start + timedelta(days=rng.randint(5, 60))).date()
            opportunities.append(
                (
                    salesforce_id("006", n),
                    account[0],
                    rng.choice(refs).id,
                    f"{account[1]} onboarding",
                    rng.choice(catalog.OPPORTUNITY_STAGES[:2]),
                    Decimal(rng.randint(1000, 50000)),
                    close,
                    account[5],
                    before,
                    before,
                )
            )
    copy_rows(
        conn,
        "sfdc.Opportunity",
        ("Id", "AccountId", "CampaignId", "Name", "StageName", "Amount", "CloseDate", *stamp_cols),
        opportunities,
    )
