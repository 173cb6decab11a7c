"""What the generator keeps in memory while it runs hour by hour (loaded from the database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from brightcart_world.generator.database import Clock, Sequences
from brightcart_world.generator.spend import CampaignRef
from brightcart_world.generator.volumes import Volumes


@dataclass
class Product:
    product_id: int
    seller_id: int
    sku: str
    name: str
    category: str
    price: Decimal
    active: bool


@dataclass
class WorldState:
    seed: int
    scale: float
    products: list[Product]
    customers: list[int]
    customer_country: dict[int, str]
    campaigns: list[CampaignRef]
    seq: Sequences
    vol: Volumes = field(init=False)

    def __post_init__(self) -> None:
        self.vol = Volumes(self.scale)

    @classmethod
    def load(cls, conn: psycopg.Connection, clock: Clock) -> WorldState:
        products = [
            Product(*row)
            for row in conn.execute(
                "SELECT product_id, seller_id, sku, name, category, price, active "
                "FROM shop.products ORDER BY product_id"
            )
        ]
        rows = conn.execute(
            "SELECT customer_id, country_code FROM shop.customers ORDER BY customer_id"
        ).fetchall()
        campaigns = [
            CampaignRef(*row)
            for row in conn.execute(
                'SELECT "Id", "utm_campaign__c", "utm_source__c", "utm_medium__c" '
                'FROM sfdc."Campaign" WHERE NOT "IsDeleted" ORDER BY "Id"'
            )
        ]
        return cls(
            seed=clock.seed,
            scale=clock.scale,
            products=products,
            customers=[r[0] for r in rows],
            customer_country={r[0]: r[1] for r in rows},
            campaigns=campaigns,
            seq=Sequences(conn),
        )

    def active_products(self) -> list[Product]:
        return [p for p in self.products if p.active]
