-- BrightCart OLTP source: the `shop` schema (docs/architecture.md) and the generator's own
-- bookkeeping schema `generator`. Idempotent: every statement can run again on a live database.
CREATE SCHEMA IF NOT EXISTS shop;

-- updated_at comes from the simulated clock (SET brightcart.now) when it is set, else now().
-- created_at is kept when the writer supplies it, else stamped like updated_at.
CREATE OR REPLACE FUNCTION shop.stamp_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    clock timestamptz := coalesce(
        nullif(current_setting('brightcart.now', true), '')::timestamptz, now());
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := coalesce(NEW.created_at, clock);
    END IF;
    NEW.updated_at := clock;
    RETURN NEW;
END $$;

CREATE TABLE IF NOT EXISTS shop.customers (
    customer_id bigint PRIMARY KEY,
    email text NOT NULL,
    first_name text,
    last_name text,
    country_code char(2) NOT NULL,
    city text,
    marketing_opt_in boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.sellers (
    seller_id bigint PRIMARY KEY,
    name text NOT NULL,
    country_code char(2) NOT NULL,
    commission_rate numeric(5, 4) NOT NULL CHECK (commission_rate >= 0 AND commission_rate < 1),
    salesforce_account_id varchar(18),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.products (
    product_id bigint PRIMARY KEY,
    seller_id bigint NOT NULL REFERENCES shop.sellers (seller_id),
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    category text NOT NULL,
    price numeric(12, 2) NOT NULL CHECK (price >= 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- channel is nullable on purpose: a client bug that drops it is one of the faults we simulate,
-- and the null-spike audits must see it. The CHECK still rejects unknown values.
CREATE TABLE IF NOT EXISTS shop.orders (
    order_id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers (customer_id),
    status text NOT NULL
        CHECK (status IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled')),
    channel text CHECK (channel IN ('web', 'ios', 'android')),
    currency char(3) NOT NULL,
    shipping_country char(2) NOT NULL,
    shipping_amount numeric(12, 2) NOT NULL DEFAULT 0,
    tax_amount numeric(12, 2) NOT NULL DEFAULT 0,
    placed_at timestamptz NOT NULL,
    paid_at timestamptz,
    shipped_at timestamptz,
    delivered_at timestamptz,
    cancelled_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.order_items (
    order_item_id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES shop.orders (order_id),
    product_id bigint NOT NULL REFERENCES shop.products (product_id),
    seller_id bigint NOT NULL REFERENCES shop.sellers (seller_id),
    quantity int NOT NULL CHECK (quantity > 0),
    unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    discount_amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.payments (
    payment_id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES shop.orders (order_id),
    method text NOT NULL CHECK (method IN ('card', 'paypal', 'gift_card')),
    status text NOT NULL CHECK (status IN ('captured', 'failed')),
    amount numeric(12, 2) NOT NULL CHECK (amount >= 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.refunds (
    refund_id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES shop.orders (order_id),
    order_item_id bigint REFERENCES shop.order_items (order_item_id),
    refund_type text NOT NULL CHECK (refund_type IN ('full', 'partial', 'chargeback')),
    amount numeric(12, 2) NOT NULL CHECK (amount >= 0),
    reason text,
    refunded_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS shop.heartbeat (
    writer text PRIMARY KEY,
    beat_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'sellers', 'products', 'orders', 'order_items',
                             'payments', 'refunds', 'heartbeat'] LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I BEFORE INSERT OR UPDATE ON shop.%I '
                       'FOR EACH ROW EXECUTE FUNCTION shop.stamp_updated_at()',
                       t || '_stamp_updated_at', t);
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON shop.%I (updated_at)',
                       t || '_updated_at_idx', t);
    END LOOP;
END $$;

CREATE INDEX IF NOT EXISTS orders_placed_at_idx ON shop.orders (placed_at);
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON shop.orders (customer_id);
CREATE INDEX IF NOT EXISTS products_seller_id_idx ON shop.products (seller_id);
CREATE INDEX IF NOT EXISTS order_items_order_id_idx ON shop.order_items (order_id);
CREATE INDEX IF NOT EXISTS order_items_product_id_idx ON shop.order_items (product_id);
CREATE INDEX IF NOT EXISTS payments_order_id_idx ON shop.payments (order_id);
-- The daily reconciliation reads payments per day of created_at.
CREATE INDEX IF NOT EXISTS payments_created_at_idx ON shop.payments (created_at);
CREATE INDEX IF NOT EXISTS refunds_order_id_idx ON shop.refunds (order_id);
CREATE INDEX IF NOT EXISTS refunds_refunded_at_idx ON shop.refunds (refunded_at);

-- The generator's bookkeeping: its clock, id counters, scheduled order steps, events received
-- after the clock, the manifest of what it wrote to S3 and the faults it injected.
CREATE SCHEMA IF NOT EXISTS generator;

CREATE TABLE IF NOT EXISTS generator.clock (
    id int PRIMARY KEY CHECK (id = 1),
    seed bigint NOT NULL,
    scale double precision NOT NULL CHECK (scale > 0),
    window_start timestamptz NOT NULL,
    now timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS generator.sequence (
    name text PRIMARY KEY,
    next_value bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS generator.order_step (
    order_id bigint NOT NULL,
    step text NOT NULL
        CHECK (step IN ('pay_fail', 'pay', 'cancel', 'ship', 'deliver', 'refund')),
    due_at timestamptz NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (order_id, step)
);
CREATE INDEX IF NOT EXISTS order_step_due_at_idx ON generator.order_step (due_at);

CREATE TABLE IF NOT EXISTS generator.pending_event (
    event_id uuid PRIMARY KEY,
    received_at timestamptz NOT NULL,
    line bytea NOT NULL,
    meta jsonb NOT NULL
);

CREATE TABLE IF NOT EXISTS generator.s3_object (
    s3_key text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('events', 'spend')),
    hour timestamptz NOT NULL,
    line_count int NOT NULL,
    malformed_lines int NOT NULL DEFAULT 0,
    invalid_utf8_lines int NOT NULL DEFAULT 0,
    sha256 text NOT NULL
);

CREATE TABLE IF NOT EXISTS generator.s3_event (
    s3_key text NOT NULL REFERENCES generator.s3_object (s3_key),
    line_number int NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    customer_id bigint,
    order_id bigint,
    utm_campaign text,
    is_late boolean NOT NULL,
    is_duplicate boolean NOT NULL,
    PRIMARY KEY (s3_key, line_number)
);
CREATE INDEX IF NOT EXISTS s3_event_event_id_idx ON generator.s3_event (event_id);

CREATE TABLE IF NOT EXISTS generator.fault (
    fault_id int PRIMARY KEY,
    source text NOT NULL CHECK (source IN ('shop', 'events', 'crm')),
    kind text NOT NULL,
    requested int NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'applied')),
    applied_hour timestamptz,
    applied_count int,
    details jsonb NOT NULL DEFAULT '{}'::jsonb
);
