"""A tiny, hand-written BrightCart world for the marketing models.

It writes the raw landing tables of docs/architecture.md (raw_events, raw_crm, raw_marketing, the
raw_shop rows attribution needs, raw_meta.load_log) into a DuckDB file, and computes the figures
the tests expect independently of SQL: sessions in plain Python, attribution by hand.

Paths of the data (all times UTC, 2026-11):

* visitor a1 (customer 101): paid search session on the 1st (black_friday), email session on the
  2nd with order 5001 (net sales 2 x 50.00 - 10.00 = 90.00).
* visitor a2 (customer 102): organic, paid social (utm_campaign unknown to Salesforce), then a
  direct session with order 5002 (120.00 - a 20.00 refund on the 3rd = 100.00).
* visitor a3 (customer 103): black_friday session, 35 minutes of silence, then a direct session with
  order 5003 (3 x 33.33 = 99.99).
* visitor a4: one event landed twice (duplicate), one event 38 h late (kept) and one 73 h late
  (dropped).
* order 5004 (customer 104) exists in the shop but has no order_completed event: not attributed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

LATE_CUTOFF = timedelta(hours=72)
INACTIVITY = timedelta(minutes=30)
LANDED_TO = datetime(2026, 11, 4, 0, 0, tzinfo=UTC)

SDC = (
    "_sdc_extracted_at TIMESTAMPTZ, _sdc_received_at TIMESTAMPTZ, _sdc_batched_at TIMESTAMPTZ, "
    "_sdc_deleted_at TIMESTAMPTZ, _sdc_sequence BIGINT, _sdc_table_version BIGINT, "
    "_sdc_sync_started_at BIGINT, _load_id VARCHAR, _loaded_at TIMESTAMPTZ"
)
SF = (
    "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMPTZ, lastmodifieddate TIMESTAMPTZ, "
    "systemmodstamp TIMESTAMPTZ"
)

DDL = {
    "raw_events.events": "event_id VARCHAR, event_type VARCHAR, occurred_at TIMESTAMPTZ, "
    "received_at TIMESTAMPTZ, anonymous_id VARCHAR, customer_id BIGINT, session_id VARCHAR, "
    "s3_key VARCHAR, line_number BIGINT, object_last_modified TIMESTAMPTZ, payload JSON",
    "raw_events.events_quarantine": "s3_key VARCHAR, line_number BIGINT, error VARCHAR, "
    "raw_line VARCHAR, object_last_modified TIMESTAMPTZ",
    "raw_marketing.ad_spend": '"date" VARCHAR, platform VARCHAR, campaign VARCHAR, '
    "spend DECIMAL(38,9), clicks BIGINT, impressions BIGINT, _sdc_source_file VARCHAR, "
    "_sdc_source_lineno BIGINT",
    "raw_crm.campaign": f"{SF}, name VARCHAR, type VARCHAR, status VARCHAR, isactive BOOLEAN, "
    "startdate DATE, enddate DATE, budgetedcost DECIMAL(38,9), actualcost DECIMAL(38,9), "
    "utm_campaign__c VARCHAR, utm_source__c VARCHAR, utm_medium__c VARCHAR",
    "raw_crm.account": f"{SF}, name VARCHAR, type VARCHAR, billingcountry VARCHAR, "
    "seller_id__c DECIMAL(38,9)",
    "raw_crm.contact": f"{SF}, accountid VARCHAR, firstname VARCHAR, lastname VARCHAR, "
    "email VARCHAR",
    "raw_crm.lead": f"{SF}, firstname VARCHAR, lastname VARCHAR, email VARCHAR, company VARCHAR, "
    "status VARCHAR, leadsource VARCHAR",
    "raw_crm.campaignmember": f"{SF}, campaignid VARCHAR, leadid VARCHAR, contactid VARCHAR, "
    "status VARCHAR",
    "raw_crm.opportunity": f"{SF}, accountid VARCHAR, campaignid VARCHAR, name VARCHAR, "
    "stagename VARCHAR, amount DECIMAL(38,9), closedate DATE",
    "raw_shop.customers": "customer_id BIGINT, email VARCHAR, first_name VARCHAR, "
    "last_name VARCHAR, country_code VARCHAR, city VARCHAR, marketing_opt_in BOOLEAN, "
    "created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ",
    "raw_shop.sellers": "seller_id BIGINT, name VARCHAR, country_code VARCHAR, "
    "commission_rate DECIMAL(38,9), salesforce_account_id VARCHAR, created_at TIMESTAMPTZ, "
    "updated_at TIMESTAMPTZ",
    "raw_shop.products": "product_id BIGINT, seller_id BIGINT, sku VARCHAR, name VARCHAR, "
    "category VARCHAR, price DECIMAL(38,9), active BOOLEAN, created_at TIMESTAMPTZ, "
    "updated_at TIMESTAMPTZ",
    "raw_shop.orders": "order_id BIGINT, customer_id BIGINT, status VARCHAR, channel VARCHAR, "
    "currency VARCHAR, shipping_country VARCHAR, shipping_amount DECIMAL(38,9), "
    "tax_amount DECIMAL(38,9), placed_at TIMESTAMPTZ, paid_at TIMESTAMPTZ, shipped_at TIMESTAMPTZ, "
    "delivered_at TIMESTAMPTZ, cancelled_at TIMESTAMPTZ, created_at TIMESTAMPTZ, "
    "updated_at TIMESTAMPTZ",
    "raw_shop.order_items": "order_item_id BIGINT, order_id BIGINT, product_id BIGINT, "
    "seller_id BIGINT, quantity BIGINT, unit_price DECIMAL(38,9), discount_amount DECIMAL(38,9), "
    "created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ",
    "raw_shop.payments": "payment_id BIGINT, order_id BIGINT, method VARCHAR, status VARCHAR, "
    "amount DECIMAL(38,9), created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ",
    "raw_shop.refunds": "refund_id BIGINT, order_id BIGINT, order_item_id BIGINT, "
    "refund_type VARCHAR, amount DECIMAL(38,9), reason VARCHAR, refunded_at TIMESTAMPTZ, "
    "created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ",
    "raw_shop.heartbeat": "writer VARCHAR, beat_at TIMESTAMPTZ, created_at TIMESTAMPTZ, "
    "updated_at TIMESTAMPTZ",
    "raw_meta.load_log": "load_id VARCHAR, lane VARCHAR, stream VARCHAR, started_at TIMESTAMPTZ, "
    "finished_at TIMESTAMPTZ, rows_received BIGINT, rows_inserted BIGINT, rows_duplicate BIGINT, "
    "high_water_mark TIMESTAMPTZ, status VARCHAR",
}
WITH_SDC = ("raw_crm.", "raw_shop.", "raw_marketing.", "raw_events.")


def ts(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    anonymous_id: str
    occurred_at: datetime
    received_at: datetime | None = None
    customer_id: int | None = None
    utm: tuple[str, str, str] | None = None  # (source, medium, campaign)
    referrer: str = ""
    order_id: int | None = None

    @property
    def received(self) -> datetime:
        return self.received_at or self.occurred_at + timedelta(seconds=1)

    def payload(self) -> str:
        source, medium, campaign = self.utm or (None, None, None)
        return json.dumps(
            {
                "event_id": self.event_id,
                "event_type": self.event_type,
                "occurred_at": self.occurred_at.isoformat(),
                "received_at": self.received.isoformat(),
                "anonymous_id": self.anonymous_id,
                "customer_id": self.customer_id,
                "utm_source": source,
                "utm_medium": medium,
                "utm_campaign": campaign,
                "utm_content": None,
                "utm_term": None,
                "page": {
                    "url": "https://brightcart.example/p",
                    "path": "/p",
                    "referrer": self.referrer,
                },
                "context": {"device_type": "desktop"},
                "properties": {"order_id": self.order_id} if self.order_id else {},
                "schema_version": 1,
            }
        )


BF = ("google", "cpc", "black_friday")
NEWS = ("email", "email", "newsletter")
MYSTERY = ("facebook", "paid_social", "mystery_campaign")

EVENTS: list[Event] = [
    # a1: paid search on the 1st, email + order 5001 on the 2nd
    Event("e01", "page_view", "a1", ts(1, 9), utm=BF),
    Event("e02", "product_view", "a1", ts(1, 9, 10)),
    Event("e03", "page_view", "a1", ts(2, 10), customer_id=101, utm=NEWS),
    Event("e04", "add_to_cart", "a1", ts(2, 10, 20), customer_id=101),
    Event("e05", "checkout_started", "a1", ts(2, 10, 25), customer_id=101),
    Event("e06", "order_completed", "a1", ts(2, 10, 30), customer_id=101, order_id=5001),
    # a2: organic, paid social (unknown campaign), direct + order 5002
    Event("e07", "page_view", "a2", ts(2, 8), referrer="https://www.google.com/"),
    Event("e08", "page_view", "a2", ts(2, 9), utm=MYSTERY),
    Event("e09", "page_view", "a2", ts(2, 12)),
    Event("e10", "order_completed", "a2", ts(2, 12, 5), customer_id=102, order_id=5002),
    # a3: black_friday, 35 minutes of silence, then a new (direct) session with order 5003
    Event("e11", "page_view", "a3", ts(2, 14), utm=BF),
    Event("e12", "product_view", "a3", ts(2, 14, 20)),
    Event("e13", "page_view", "a3", ts(2, 14, 55)),
    Event("e14", "order_completed", "a3", ts(2, 14, 56), customer_id=103, order_id=5003),
    # a4: a duplicate, a late event inside the 72 h cutoff and one outside it
    Event("e15", "page_view", "a4", ts(2, 15), referrer="https://news.example.org/gift-guide"),
    Event("e16", "page_view", "a4", ts(1, 20), received_at=ts(3, 10)),
    Event(
        "e17", "page_view", "a4", datetime(2026, 10, 30, 21, 0, tzinfo=UTC), received_at=ts(2, 22)
    ),
]
DUPLICATED = "e15"
QUARANTINED_LATE_KEY = "events/dt=2026-11-03/hour=05/late.gz"
STORAGE_CLOCK = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # S3 LastModified: wall clock, not world

# Salesforce campaigns: black_friday has two versions (the later one wins), newsletter is current,
# old_promo is deleted in its latest version.
CAMPAIGNS = [
    ("701A", False, 1, "Black Friday v1", "black_friday", "1000", "100"),
    ("701A", False, 2, "Black Friday", "black_friday", "1000", "250"),
    ("701B", False, 1, "Newsletter", "newsletter", "300", "30"),
    ("701C", False, 1, "Old promo", "old_promo", "50", "5"),
    ("701C", True, 2, "Old promo", "old_promo", "50", "5"),
]

# Ad spend: (file, date, platform, campaign, spend, clicks, impressions); the 2nd's black_friday row
# is corrected by a later file, which wins.
AD_SPEND = [
    ("ad_spend_2026-11-01.csv", 1, "google", "black_friday", "40.00", 30, 900),
    ("ad_spend_2026-11-02.csv", 2, "google", "black_friday", "55.00", 35, 1000),
    ("ad_spend_2026-11-03.csv", 2, "google", "black_friday", "60.00", 40, 1200),
    ("ad_spend_2026-11-02.csv", 2, "email", "newsletter", "10.00", 5, 100),
]

# Shop: order -> (customer, paid_at, [(item_id, qty, unit_price, discount)], refunds)
ORDERS = {
    5001: (101, ts(2, 10, 31), [(1, 2, "50.00", "10.00")], []),
    5002: (102, ts(2, 12, 6), [(2, 1, "120.00", "0.00")], [(1, "20.00", ts(3, 9))]),
    5003: (103, ts(2, 14, 57), [(3, 3, "33.33", "0.00")], []),
    5004: (104, ts(2, 16), [(4, 1, "10.00", "0.00")], []),
}
SHIPPING = Decimal("5.00")
TAX = Decimal("1.00")

# Hand-computed: order net revenue (net sales - refunds) and the credits per touch, in path order.
NET_REVENUE = {5001: Decimal("90.00"), 5002: Decimal("100.00"), 5003: Decimal("99.99")}
EXPECTED_ATTRIBUTION = {
    # order: [(channel, utm_campaign, credit first, last, linear, position-based,
    #          revenue linear, revenue position-based)] in path order
    5001: [
        ("paid_search", "black_friday", 1, 0, "0.5", "0.5", "45.00", "45.00"),
        ("email", "newsletter", 0, 1, "0.5", "0.5", "45.00", "45.00"),
    ],
    5002: [
        ("organic", None, 1, 0, "0.333333", "0.4", "33.33", "40.00"),
        ("paid_social", "mystery_campaign", 0, 0, "0.333333", "0.2", "33.33", "20.00"),
        ("direct", None, 0, 1, "0.333334", "0.4", "33.34", "40.00"),
    ],
    5003: [
        ("paid_search", "black_friday", 1, 0, "0.5", "0.5", "50.00", "50.00"),
        ("direct", None, 0, 1, "0.5", "0.5", "49.99", "49.99"),
    ],
}


@dataclass
class PythonSessions:
    """Sessions computed in plain Python: (anonymous_id, start, end, landing event id)."""

    rows: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)


def kept_events() -> list[Event]:
    """Events staging should keep: one copy each, received within 72 h of occurring."""
    return [e for e in EVENTS if e.received - e.occurred_at <= LATE_CUTOFF]


def python_sessions(events: list[Event]) -> PythonSessions:
    """30 minutes of inactivity or a new UTC day start a session."""
    out = PythonSessions()
    by_visitor: dict[str, list[Event]] = {}
    for e in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        by_visitor.setdefault(e.anonymous_id, []).append(e)
    for visitor, evs in by_visitor.items():
        start = prev = evs[0]
        for e in evs[1:]:
            if (
                e.occurred_at - prev.occurred_at > INACTIVITY
                or e.occurred_at.date() != prev.occurred_at.date()
            ):
                out.rows.append((visitor, start.occurred_at, prev.occurred_at, start.event_id))
                start = e
            prev = e
        out.rows.append((visitor, start.occurred_at, prev.occurred_at, start.event_id))
    return out


def event_row(e: Event, key: str, line: int) -> tuple[object, ...]:
    """The raw_events.events row of event `e`, landed as line `line` of the object `key`."""
    return (
        e.event_id,
        e.event_type,
        e.occurred_at,
        e.received,
        e.anonymous_id,
        e.customer_id,
        f"s-{e.anonymous_id}",
        key,
        line,
        e.received,
        e.payload(),
    )


def _sdc(conn_values: tuple[object, ...], loaded_at: datetime, seq: int) -> tuple[object, ...]:
    return (
        *conn_values,
        loaded_at,
        loaded_at,
        loaded_at,
        None,
        seq,
        None,
        None,
        "load-1",
        loaded_at,
    )


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    if not rows:
        return
    width = len(rows[0])
    conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)


def build_warehouse(path: Path) -> None:
    """Create the raw landing tables and fill them with the world above."""
    conn = duckdb.connect(str(path))
    try:
        for table, columns in DDL.items():
            schema = table.split(".")[0]
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            sdc = (
                f", {SDC}"
                if table.startswith(WITH_SDC) and table != "raw_events.events_quarantine"
                else ""
            )
            if table.startswith("raw_events."):
                sdc = ""
            conn.execute(f"CREATE TABLE {table} ({columns}{sdc})")
        loaded = LANDED_TO

        events: list[tuple[object, ...]] = []
        for line, e in enumerate(EVENTS, start=1):
            key = f"events/dt={e.received:%Y-%m-%d}/hour={e.received:%H}/obj-{e.received:%H%M}.gz"
            row = event_row(e, key, line)
            events.append(row)
            if e.event_id == DUPLICATED:  # the same line again in a later object
                dup_at = e.received + timedelta(minutes=5)
                events.append((*row[:7], f"events/dup-{e.event_id}.gz", 1, dup_at, row[10]))
        _insert(conn, "raw_events.events", events)
        _insert(
            conn,
            "raw_events.events_quarantine",
            [
                ("events/dt=2026-11-02/hour=10/bad.gz", 3, "invalid JSON", "{oops", ts(2, 10, 1)),
                ("events/dt=2026-11-02/hour=10/bad.gz", 7, "missing event_id", "{}", ts(2, 10, 1)),
                ("events/dt=2026-11-02/hour=10/bad.gz", 7, "missing event_id", "{}", ts(2, 10, 1)),
                # the producer landed it in the world's hour 2026-11-03 05:00; the storage stamped
                # it on its own wall clock, a month later
                (QUARANTINED_LATE_KEY, 1, "invalid JSON", "{", STORAGE_CLOCK),
            ],
        )

        _insert(
            conn,
            "raw_marketing.ad_spend",
            [
                _sdc(
                    (date_of(d), platform, camp, spend, clicks, imps, f"marketing/spend/{f}", i),
                    loaded,
                    i,
                )
                for i, (f, d, platform, camp, spend, clicks, imps) in enumerate(AD_SPEND, start=1)
            ],
        )
        campaigns = []
        for i, (cid, deleted, version, name, utm, budget, cost) in enumerate(CAMPAIGNS, start=1):
            stamp = ts(1, version)
            campaigns.append(
                _sdc(
                    (
                        cid,
                        deleted,
                        ts(1, 0),
                        stamp,
                        stamp,
                        name,
                        "Paid Search",
                        "In Progress",
                        True,
                        date_of(1),
                        date_of(30),
                        budget,
                        cost,
                        utm,
                        "google",
                        "cpc",
                    ),
                    loaded,
                    i,
                )
            )
        _insert(conn, "raw_crm.campaign", campaigns)

        seller = _sdc(
            (1, "Seller One", "DE", "0.1000", "0010000000000001AA", ts(1, 0), ts(1, 0)), loaded, 1
        )
        _insert(conn, "raw_shop.sellers", [seller])
        customers, products, orders, items, payments, refunds = [], [], [], [], [], []
        for order_id, (customer, paid_at, lines, order_refunds) in ORDERS.items():
            placed = paid_at - timedelta(minutes=1)
            customers.append(
                _sdc(
                    (
                        customer,
                        f"c{customer}@example.org",
                        "F",
                        "L",
                        "DE",
                        "Berlin",
                        True,
                        ts(1, 0),
                        ts(1, 0),
                    ),
                    loaded,
                    customer,
                )
            )
            orders.append(
                _sdc(
                    (
                        order_id,
                        customer,
                        "paid",
                        "web",
                        "EUR",
                        "DE",
                        SHIPPING,
                        TAX,
                        placed,
                        paid_at,
                        None,
                        None,
                        None,
                        placed,
                        paid_at,
                    ),
                    loaded,
                    order_id,
                )
            )
            total = SHIPPING + TAX
            for item_id, qty, price, discount in lines:
                products.append(
                    _sdc(
                        (
                            item_id,
                            1,
                            f"SKU{item_id}",
                            f"P{item_id}",
                            "home",
                            price,
                            True,
                            ts(1, 0),
                            ts(1, 0),
                        ),
                        loaded,
                        item_id,
                    )
                )
                items.append(
                    _sdc(
                        (item_id, order_id, item_id, 1, qty, price, discount, placed, placed),
                        loaded,
                        item_id,
                    )
                )
                total += qty * Decimal(price) - Decimal(discount)
            payments.append(
                _sdc(
                    (order_id, order_id, "card", "captured", total, paid_at, paid_at),
                    loaded,
                    order_id,
                )
            )
            for refund_id, amount, at in order_refunds:
                refunds.append(
                    _sdc(
                        (refund_id, order_id, None, "partial", amount, "changed_mind", at, at, at),
                        loaded,
                        refund_id,
                    )
                )
        for table, rows in (
            ("raw_shop.customers", customers),
            ("raw_shop.products", products),
            ("raw_shop.orders", orders),
            ("raw_shop.order_items", items),
            ("raw_shop.payments", payments),
            ("raw_shop.refunds", refunds),
        ):
            _insert(conn, table, rows)
        _insert(
            conn,
            "raw_meta.load_log",
            [
                (f"load-{lane}", lane, "all", loaded, loaded, 1, 1, 0, LANDED_TO, "succeeded")
                for lane in ("shop", "events", "marketing", "crm")
            ],
        )
    finally:
        conn.close()


def date_of(day: int) -> str:
    return f"2026-11-{day:02d}"
