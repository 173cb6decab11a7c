"""Daily ad spend per campaign: one deterministic figure per campaign and day.

The spend CSV and Campaign.ActualCost read the same function, so the CRM's cumulative cost at the
end of a day equals the sum of the CSV rows up to that day.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from brightcart_world.generator.rng import stream

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CampaignRef:
    """What the generator needs to know about a Salesforce campaign."""

    id: str
    utm_campaign: str
    utm_source: str
    utm_medium: str


@dataclass(frozen=True)
class DailySpend:
    day: date
    platform: str
    campaign: str
    spend: Decimal
    clicks: int
    impressions: int


def daily_spend(seed: int, scale: float, campaign: CampaignRef, day: date) -> DailySpend:
    base_rng = stream(seed, "campaign-base", campaign.utm_campaign)
    base = base_rng.uniform(20, 200) * max(1.0, scale * 50)
    rng = stream(seed, "spend", campaign.utm_campaign, day.isoformat())
    spend = Decimal(str(base * rng.uniform(0.7, 1.3))).quantize(CENT, ROUND_HALF_UP)
    cpc = rng.uniform(0.4, 2.5)
    clicks = max(1, int(float(spend) / cpc))
    impressions = clicks * rng.randint(20, 80)
    return DailySpend(day, campaign.utm_source, campaign.utm_campaign, spend, clicks, impressions)


def hourly_share(spend: Decimal, hour: int) -> Decimal:
    """Spend accrued by the end of hour `hour` (0-23) of the day; hour 23 gives the whole day."""
    return (spend * (hour + 1) / 24).quantize(CENT, ROUND_HALF_UP)


def render_csv(rows: list[DailySpend]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "platform", "campaign", "spend", "clicks", "impressions"])
    for r in rows:
        writer.writerow(
            [r.day.isoformat(), r.platform, r.campaign, f"{r.spend}", r.clicks, r.impressions]
        )
    return out.getvalue().encode()


def spend_key(day: date) -> str:
    d = day.isoformat()
    return f"marketing/spend/dt={d}/ad_spend_{d}.csv"
