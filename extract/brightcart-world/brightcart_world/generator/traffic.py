"""One simulated hour of shopper behaviour: visits, their events, signups and placed orders."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from brightcart_world.generator import catalog
from brightcart_world.generator.rng import draw_count, stream, uuid4
from brightcart_world.generator.setup import make_customer
from brightcart_world.generator.state import Product, WorldState
from brightcart_world.generator.timefmt import HOUR, MINUTE, from_ms, iso_ms

CENT = Decimal("0.01")
FREE_SHIPPING_FROM = Decimal("50.00")
SHIPPING_FEE = Decimal("4.99")


@dataclass
class Event:
    """One event before serialisation; `received_ms` decides which hour's prefix it lands in."""

    body: dict[str, Any]
    occurred_ms: int
    received_ms: int = 0
    is_late: bool = False

    @property
    def event_id(self) -> str:
        return str(self.body["event_id"])

    def meta(self) -> dict[str, Any]:
        props = self.body.get("properties") or {}
        return {
            "event_id": self.event_id,
            "event_type": self.body["event_type"],
            "occurred_ms": self.occurred_ms,
            "received_ms": self.received_ms,
            "customer_id": self.body.get("customer_id"),
            "order_id": props.get("order_id"),
            "utm_campaign": self.body.get("utm_campaign"),
            "is_late": self.is_late,
        }


@dataclass
class PlacedOrder:
    order: tuple[Any, ...]  # shop.orders row (ORDER_COLUMNS)
    items: list[tuple[Any, ...]]  # shop.order_items rows (ITEM_COLUMNS)
    total: Decimal
    placed_ms: int


ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "status",
    "channel",
    "currency",
    "shipping_country",
    "shipping_amount",
    "tax_amount",
    "placed_at",
    "created_at",
)
ITEM_COLUMNS = (
    "order_item_id",
    "order_id",
    "product_id",
    "seller_id",
    "quantity",
    "unit_price",
    "discount_amount",
    "created_at",
)


@dataclass
class HourActivity:
    events: list[Event] = field(default_factory=list)
    customers: list[tuple[Any, ...]] = field(default_factory=list)  # (row, created_ms)
    customer_ms: list[int] = field(default_factory=list)
    orders: list[PlacedOrder] = field(default_factory=list)


@dataclass
class _Session:
    session_id: str
    anonymous_id: str
    channel: str
    utm: dict[str, str | None]
    user_agent: str
    ip: str
    locale: str
    customer_id: int | None = None


def diurnal(hour_of_day: int) -> float:
    """Traffic shape over the UTC day, mean 1.0, peak at 16:00 UTC."""
    return 1.0 - 0.45 * math.cos(2 * math.pi * (hour_of_day - 4) / 24)


def simulate_hour(state: WorldState, hour_ms: int) -> HourActivity:
    rng = stream(state.seed, "hour", iso_ms(hour_ms))
    factor = diurnal(from_ms(hour_ms).hour)
    vol = state.vol
    act = HourActivity()
    n_orders = draw_count(rng, vol.orders_per_day / 24 * factor)
    n_signups = draw_count(rng, vol.signups_without_order_per_day / 24 * factor)
    budget = draw_count(rng, vol.events_per_day / 24 * factor)
    products = state.active_products()
    if not products:
        raise RuntimeError("no active products: the world was not seeded; run generate first")

    plans: list[tuple[str, int]] = [("order", i) for i in range(n_orders)]
    plans += [("signup", i) for i in range(n_signups)]
    spent = 0
    for kind, _ in plans:
        spent += 8 if kind == "order" else 3
    while spent < budget:
        plans.append(("browse", len(plans)))
        spent += 3
    known = list(state.customers)  # customers who exist when the hour starts
    for kind, _ in plans:
        _session(state, rng, hour_ms, kind, products, known, act)
    _fill_quiet_minutes(state, rng, hour_ms, act)
    return act


def _fill_quiet_minutes(
    state: WorldState, rng: random.Random, hour_ms: int, act: HourActivity
) -> None:
    """The events stream is the events lane's heartbeat: every minute has traffic. A minute
    without any event gets a one-page (bounce) visit."""
    busy = {(ev.occurred_ms - hour_ms) // MINUTE for ev in act.events}
    for minute in range(60):
        if minute in busy:
            continue
        sess = _new_session(state, rng)
        t = hour_ms + minute * MINUTE + rng.randint(0, 55_000)
        act.events.append(Event(_body(rng, "page_view", t, sess, None, {}), t))


def _new_session(state: WorldState, rng: random.Random) -> _Session:
    channel = rng.choices(catalog.CHANNELS, catalog.CHANNEL_WEIGHTS)[0]
    utm: dict[str, str | None] = dict.fromkeys(
        ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
    )
    if state.campaigns and rng.random() < 0.45:
        camp = rng.choice(state.campaigns)
        utm = {
            "utm_source": camp.utm_source,
            "utm_medium": camp.utm_medium,
            "utm_campaign": camp.utm_campaign,
            "utm_content": rng.choice(catalog.UTM_CONTENTS),
            "utm_term": rng.choice(catalog.UTM_TERMS),
        }
    country = rng.choices(catalog.COUNTRY_CODES, catalog.COUNTRY_WEIGHTS)[0]
    return _Session(
        session_id=uuid4(rng),
        anonymous_id=uuid4(rng),
        channel=channel,
        utm=utm,
        user_agent=rng.choice(catalog.USER_AGENTS[channel]),
        ip=f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
        f"{rng.randint(1, 254)}",
        locale=catalog.COUNTRIES[country][3],
    )


def _session(
    state: WorldState,
    rng: random.Random,
    hour_ms: int,
    kind: str,
    products: list[Product],
    customers: list[int],
    act: HourActivity,
) -> None:
    sess = _new_session(state, rng)
    steps: list[tuple[str, Product | None]] = [("page_view", None)]
    viewed = rng.sample(products, k=min(len(products), rng.randint(1, 3)))
    known = None
    if kind == "order":
        returning = bool(customers) and rng.random() < 0.75
        if returning:
            known = rng.choice(customers)
        else:
            steps.append(("signup", None))
        steps += [("product_view", p) for p in viewed]
        cart = viewed[: rng.randint(1, len(viewed))]
        steps += [("add_to_cart", p) for p in cart]
        steps += [("checkout_started", None), ("order_completed", None)]
    elif kind == "signup":
        steps += [("signup", None), ("product_view", viewed[0])]
        cart = []
    else:
        if customers and rng.random() < 0.3:
            known = rng.choice(customers)
        steps += [("product_view", p) for p in viewed]
        cart = viewed[:1] if rng.random() < 0.3 else []
        steps += [("add_to_cart", p) for p in cart]
        if cart and rng.random() < 0.3:
            steps.append(("checkout_started", None))
    gaps = [rng.randint(5_000, 120_000) for _ in steps]
    duration = sum(gaps)
    t = hour_ms + rng.randint(0, max(0, HOUR - duration - 5_000))
    quantities = {p.product_id: rng.choices((1, 2, 3), (80, 15, 5))[0] for p in cart}
    for i, ((etype, product), gap) in enumerate(zip(steps, gaps, strict=True)):
        t += gap
        if i == 1 and known is not None:
            sess.customer_id = known  # logged in after landing
        props: dict[str, Any] = {}
        if etype == "signup":
            cid = state.seq.take("customer")
            row = make_customer(rng, cid, from_ms(t))
            act.customers.append(row)
            act.customer_ms.append(t)
            state.customers.append(cid)
            state.customer_country[cid] = str(row[4])
            sess.customer_id = cid
            props = {"method": rng.choice(("email", "google", "apple"))}
        elif product is not None:
            props = _product_props(product, quantities.get(product.product_id, 1))
        elif etype == "order_completed":
            assert sess.customer_id is not None
            placed = _place_order(state, rng, sess, cart, quantities, t)
            act.orders.append(placed)
            props = {
                "order_id": placed.order[0],
                "revenue": str(placed.total),
                "currency": placed.order[4],
                "quantity": sum(quantities.values()),
                "products": [
                    {"product_id": it[2], "quantity": it[4], "price": str(it[5])}
                    for it in placed.items
                ],
            }
        elif etype == "checkout_started":
            props = {
                "cart_size": len(cart),
                "quantity": sum(quantities.values()),
                "value": str(sum((p.price * quantities[p.product_id] for p in cart), Decimal(0))),
            }
        act.events.append(Event(_body(rng, etype, t, sess, product, props), t))


def _product_props(p: Product, quantity: int) -> dict[str, Any]:
    return {
        "product_id": p.product_id,
        "sku": p.sku,
        "name": p.name,
        "category": p.category,
        "price": str(p.price),
        "quantity": quantity,
        "seller_id": p.seller_id,
    }


def _body(
    rng: random.Random,
    etype: str,
    t: int,
    sess: _Session,
    product: Product | None,
    props: dict[str, Any],
) -> dict[str, Any]:
    if product is not None:
        path = f"/p/{product.sku.lower()}/{product.name.lower().replace(' ', '-')}"
        title = f"{product.name} | {product.category.title()} | BrightCart"
    else:
        path, title = {
            "page_view": ("/", "BrightCart - Everything from independent sellers"),
            "signup": ("/account/signup", "Create your account | BrightCart"),
            "checkout_started": ("/checkout", "Checkout | BrightCart"),
            "order_completed": ("/checkout/confirmation", "Thank you | BrightCart"),
        }.get(etype, ("/", "BrightCart"))
    query = "&".join(f"{k}={v}" for k, v in sess.utm.items() if v is not None)
    url = f"https://www.brightcart.example{path}" + (f"?{query}" if query else "")
    return {
        "event_id": uuid4(rng),
        "event_type": etype,
        "occurred_at": iso_ms(t),
        "received_at": None,
        "anonymous_id": sess.anonymous_id,
        "customer_id": sess.customer_id,
        "session_id": sess.session_id,
        **sess.utm,
        "page": {
            "url": url,
            "path": path,
            "referrer": rng.choice(catalog.REFERRERS),
            "title": title,
        },
        "context": {
            "user_agent": sess.user_agent,
            "ip": sess.ip,
            "locale": sess.locale,
            "device_type": {"web": "desktop", "ios": "mobile", "android": "mobile"}[sess.channel],
            "app_version": catalog.APP_VERSIONS[sess.channel],
            "channel": sess.channel,
            "library": {"name": "brightcart-analytics.js", "version": "4.12.3"},
            "screen": {
                "width": 1920 if sess.channel == "web" else 393,
                "height": 1080 if sess.channel == "web" else 852,
                "density": 2,
            },
            "timezone": "UTC",
        },
        "properties": props,
        "schema_version": 1,
    }


def _place_order(
    state: WorldState,
    rng: random.Random,
    sess: _Session,
    cart: list[Product],
    quantities: dict[int, int],
    t: int,
) -> PlacedOrder:
    assert sess.customer_id is not None
    order_id = state.seq.take("order")
    country = state.customer_country.get(sess.customer_id, "US")
    _, currency, tax_rate, _, _ = catalog.COUNTRIES[country]
    placed = from_ms(t)
    items = []
    subtotal = Decimal(0)
    discount = Decimal(0)
    for p in cart:
        qty = quantities[p.product_id]
        line = p.price * qty
        disc = (
            (line * Decimal("0.10")).quantize(CENT, ROUND_HALF_UP)
            if rng.random() < 0.25
            else Decimal("0.00")
        )
        subtotal += line
        discount += disc
        items.append(
            (
                state.seq.take("order_item"),
                order_id,
                p.product_id,
                p.seller_id,
                qty,
                p.price,
                disc,
                placed,
            )
        )
    net = subtotal - discount
    shipping = Decimal("0.00") if net >= FREE_SHIPPING_FROM else SHIPPING_FEE
    tax = (net * tax_rate).quantize(CENT, ROUND_HALF_UP)
    total = net + shipping + tax
    order = (
        order_id,
        sess.customer_id,
        "placed",
        sess.channel,
        currency,
        country,
        shipping,
        tax,
        placed,
        placed,
    )
    return PlacedOrder(order=order, items=items, total=total, placed_ms=t)


def order_plan(seed: int, placed: PlacedOrder) -> list[tuple[int, str, int, dict[str, Any]]]:
    """The order's future: (order_id, step, due_ms, payload), drawn once when it is placed."""
    order_id = int(placed.order[0])
    rng = stream(seed, "order", order_id)
    method = rng.choices(("card", "paypal", "gift_card"), (70, 25, 5))[0]
    amount = str(placed.total)
    t = placed.placed_ms
    steps: list[tuple[int, str, int, dict[str, Any]]] = []
    r = rng.random()
    paid_at: int | None = None
    if r < 0.05:
        steps.append((order_id, "cancel", t + rng.randint(10, 120) * MINUTE, {}))
    elif r < 0.11:
        fail = t + rng.randint(1, 10) * MINUTE
        steps.append((order_id, "pay_fail", fail, {"method": method, "amount": amount}))
        if rng.random() < 0.7:
            paid_at = fail + rng.randint(5, 60) * MINUTE
        else:
            steps.append((order_id, "cancel", fail + rng.randint(10, 90) * MINUTE, {}))
    else:
        paid_at = t + rng.randint(60, 900) * 1000
    if paid_at is None:
        return steps
    steps.append((order_id, "pay", paid_at, {"method": method, "amount": amount}))
    shipped = paid_at + rng.randint(20 * 60, 48 * 60) * MINUTE
    delivered = shipped + rng.randint(2 * 24 * 60, 5 * 24 * 60) * MINUTE
    steps += [(order_id, "ship", shipped, {}), (order_id, "deliver", delivered, {})]
    if rng.random() < 0.08:
        refunded = delivered + rng.randint(1 * 24 * 60, 30 * 24 * 60) * MINUTE
        kind = rng.choices(("full", "partial", "chargeback"), (56, 40, 4))[0]
        item_id = None
        refund_amount = placed.total
        if kind == "partial":
            item = rng.choice(placed.items)
            item_id = int(item[0])
            refund_amount = item[5] * item[4] - item[6]
        steps.append(
            (
                order_id,
                "refund",
                refunded,
                {
                    "refund_type": kind,
                    "amount": str(refund_amount),
                    "order_item_id": item_id,
                    "reason": "chargeback"
                    if kind == "chargeback"
                    else rng.choice(catalog.REFUND_REASONS),
                },
            )
        )
    return steps
