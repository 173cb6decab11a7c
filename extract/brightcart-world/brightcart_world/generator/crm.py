"""One simulated hour of CRM activity in the Salesforce backing tables (schema sfdc)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from brightcart_world.generator import catalog
from brightcart_world.generator.copying import copy_rows
from brightcart_world.generator.rng import draw_count, salesforce_id, stream
from brightcart_world.generator.spend import daily_spend, hourly_share
from brightcart_world.generator.state import WorldState
from brightcart_world.generator.timefmt import HOUR, from_ms, iso_ms

STAMPS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


@dataclass
class CrmFaultPlan:
    requested: dict[str, int] = field(default_factory=dict)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)


def write_crm_hour(
    conn: psycopg.Connection, state: WorldState, hour_ms: int, faults: CrmFaultPlan
) -> Counter[str]:
    counts: Counter[str] = Counter()
    rng = stream(state.seed, "crm", iso_ms(hour_ms))
    leads = conn.execute('SELECT "Id", "Status" FROM sfdc."Lead" ORDER BY "Id"').fetchall()
    opps = conn.execute('SELECT "Id", "StageName" FROM sfdc."Opportunity" ORDER BY "Id"').fetchall()
    edits = sorted(
        (hour_ms + rng.randrange(HOUR - 1000), rng.random())
        for _ in range(draw_count(rng, state.vol.crm_edits_per_hour))
    )
    for t_ms, pick in edits:
        t = from_ms(t_ms)
        if pick < 0.4 or not leads:
            n = state.seq.take("sf_lead")
            lead_id = salesforce_id("00Q", n)
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            copy_rows(
                conn,
                "sfdc.Lead",
                (
                    "Id",
                    "FirstName",
                    "LastName",
                    "Email",
                    "Company",
                    "Status",
                    "LeadSource",
                    *STAMPS,
                ),
                [
                    (
                        lead_id,
                        first,
                        last,
                        f"{first}.{last}.l{n}@prospect.example".lower(),
                        f"{last} {rng.choice(catalog.SELLER_WORDS)}",
                        catalog.LEAD_STATUSES[0],
                        rng.choice(catalog.LEAD_SOURCES),
                        t,
                        t,
                        t,
                    )
                ],
            )
            counts["Lead"] += 1
            if state.campaigns:
                m = state.seq.take("sf_campaign_member")
                copy_rows(
                    conn,
                    "sfdc.CampaignMember",
                    ("Id", "CampaignId", "LeadId", "ContactId", "Status", *STAMPS),
                    [
                        (
                            salesforce_id("00v", m),
                            rng.choice(state.campaigns).id,
                            lead_id,
                            None,
                            "Responded",
                            t,
                            t,
                            t,
                        )
                    ],
                )
                counts["CampaignMember"] += 1
        elif pick < 0.75 or not opps:
            lead_id, status = rng.choice(leads)
            nxt = (
                catalog.LEAD_STATUSES[
                    min(catalog.LEAD_STATUSES.index(status) + 1, len(catalog.LEAD_STATUSES) - 1)
                ]
                if status in catalog.LEAD_STATUSES
                else catalog.LEAD_STATUSES[0]
            )
            conn.execute(
                'UPDATE sfdc."Lead" SET "Status" = %s, "LastModifiedDate" = %s, '
                '"SystemModstamp" = %s WHERE "Id" = %s',
                (nxt, t, t, lead_id),
            )
            counts["Lead"] += 1
        else:
            opp_id, stage = rng.choice(opps)
            stages = catalog.OPPORTUNITY_STAGES
            nxt = (
                stages[min(stages.index(stage) + 1, len(stages) - 1)]
                if stage in stages
                else stages[0]
            )
            conn.execute(
                'UPDATE sfdc."Opportunity" SET "StageName" = %s, "LastModifiedDate" = %s, '
                '"SystemModstamp" = %s WHERE "Id" = %s',
                (nxt, t, t, opp_id),
            )
            counts["Opportunity"] += 1
    counts += _sync_actual_cost(conn, state, hour_ms)
    _faults(conn, state, hour_ms, faults)
    return counts


def _sync_actual_cost(conn: psycopg.Connection, state: WorldState, hour_ms: int) -> Counter[str]:
    """The CRM heartbeat: ActualCost accrues the day's spend, synced at hh:59:59."""
    counts: Counter[str] = Counter()
    hour = from_ms(hour_ms)
    day: date = hour.date()
    stamp = hour + timedelta(minutes=59, seconds=59)
    rows = []
    current: dict[str, Any] = dict(
        conn.execute('SELECT "Id", "ActualCost" FROM sfdc."Campaign"').fetchall()
    )
    for camp in state.campaigns:
        spend = daily_spend(state.seed, state.scale, camp, day).spend
        before = hourly_share(spend, hour.hour - 1) if hour.hour else Decimal("0.00")
        cost = Decimal(current.get(camp.id) or 0) - before + hourly_share(spend, hour.hour)
        rows.append((cost, stamp, stamp, camp.id))
    with conn.cursor() as cur:
        cur.executemany(
            'UPDATE sfdc."Campaign" SET "ActualCost" = %s, "LastModifiedDate" = %s, '
            '"SystemModstamp" = %s WHERE "Id" = %s',
            rows,
        )
    counts["Campaign"] += len(rows)
    return counts


def _faults(
    conn: psycopg.Connection, state: WorldState, hour_ms: int, faults: CrmFaultPlan
) -> None:
    rng = stream(state.seed, "crm-faults", iso_ms(hour_ms))
    if "drift" in faults.requested:
        ids = [r[0] for r in conn.execute('SELECT "Id" FROM sfdc."Lead" ORDER BY "Id"')]
        chosen = sorted(rng.sample(ids, k=min(len(ids), faults.requested["drift"])))
        conn.execute(
            'UPDATE sfdc."Lead" SET "Company" = "Company" || \' Holdings\' WHERE "Id" = ANY(%s)',
            (chosen,),
        )
        faults.details["drift"] = {"object": "Lead", "ids": chosen, "field": "Company"}
    if "hard_delete" in faults.requested:
        ids = [r[0] for r in conn.execute('SELECT "Id" FROM sfdc."CampaignMember" ORDER BY "Id"')]
        chosen = sorted(rng.sample(ids, k=min(len(ids), faults.requested["hard_delete"])))
        conn.execute('DELETE FROM sfdc."CampaignMember" WHERE "Id" = ANY(%s)', (chosen,))
        faults.details["hard_delete"] = {"object": "CampaignMember", "ids": chosen}
