-- A small but real sample database for the postgres-server tests and demos: a shop with
-- customers, products, orders and order lines, constraints, indexes, comments, a view, an enum
-- and identity sequences. Loaded by `.ci/postgres start` into the schema `shop`.
--
-- Deterministic: the same rows every time (no random()).

\set ON_ERROR_STOP on
BEGIN;

DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'mcp postgres-server sample data (safe to drop)';

CREATE TYPE shop.order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

CREATE TABLE shop.customers (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL UNIQUE CHECK (position('@' IN email) > 1),
    name        text NOT NULL,
    country     char(2) NOT NULL DEFAULT 'FR',
    created_at  timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
);
COMMENT ON TABLE shop.customers IS 'People who buy things';
COMMENT ON COLUMN shop.customers.country IS 'ISO 3166-1 alpha-2 code';

CREATE TABLE shop.products (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    price       numeric(10, 2) NOT NULL CHECK (price >= 0),
    stock       integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    tags        text[] NOT NULL DEFAULT '{}',
    attributes  jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE shop.products IS 'What the shop sells';
CREATE INDEX products_name_idx ON shop.products (lower(name));

CREATE TABLE shop.orders (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  integer NOT NULL REFERENCES shop.customers (id),
    status       shop.order_status NOT NULL DEFAULT 'pending',
    ordered_at   timestamptz NOT NULL,
    shipped_on   date,
    CONSTRAINT shipped_after_order CHECK (shipped_on IS NULL OR shipped_on >= ordered_at::date)
);
COMMENT ON TABLE shop.orders IS 'One order per checkout';
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
CREATE INDEX orders_ordered_at_idx ON shop.orders (ordered_at);

CREATE TABLE shop.order_lines (
    order_id    integer NOT NULL REFERENCES shop.orders (id) ON DELETE CASCADE,
    line_no     smallint NOT NULL CHECK (line_no > 0),
    product_id  integer NOT NULL REFERENCES shop.products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
COMMENT ON TABLE shop.order_lines IS 'The products of an order';
CREATE INDEX order_lines_product_idx ON shop.order_lines (product_id);

CREATE TABLE shop.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shop.audit_log IS 'Free-form notes; the write tests insert here';

CREATE VIEW shop.order_totals AS
SELECT o.id AS order_id, o.customer_id, o.status, sum(l.quantity * l.unit_price) AS total
FROM shop.orders o JOIN shop.order_lines l ON l.order_id = o.id
GROUP BY o.id;
COMMENT ON VIEW shop.order_totals IS 'Order totals from their lines';

INSERT INTO shop.customers (email, name, country, created_at)
SELECT format('customer%s@example.com', g),
       format('Customer %s', g),
       (ARRAY['FR', 'DE', 'US', 'JP', 'BR'])[1 + g % 5],
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 day'
FROM generate_series(1, 50) AS g;

INSERT INTO shop.products (sku, name, price, stock, tags, attributes)
SELECT format('SKU-%s', lpad(g::text, 4, '0')),
       format('Product %s', g),
       (g * 3.25)::numeric(10, 2),
       g * 10,
       ARRAY[(ARRAY['kitchen', 'garden', 'office', 'toys'])[1 + g % 4]],
       jsonb_build_object('weight_g', g * 100, 'fragile', g % 3 = 0)
FROM generate_series(1, 20) AS g;

INSERT INTO shop.orders (customer_id, status, ordered_at, shipped_on)
SELECT 1 + g % 50,
       (ARRAY['pending', 'paid', 'shipped', 'cancelled']::shop.order_status[])[1 + g % 4],
       timestamptz '2024-03-01 12:00:00+00' + g * interval '7 hours',
       CASE WHEN g % 4 = 2 THEN (timestamptz '2024-03-01 12:00:00+00' + g * interval '7 hours')::date + 2 END
FROM generate_series(1, 200) AS g;

INSERT INTO shop.order_lines (order_id, line_no, product_id, quantity, unit_price)
SELECT o, l, 1 + (o * 7 + l) % 20, 1 + (o + l) % 5, ((1 + (o * 7 + l) % 20) * 3.25)::numeric(10, 2)
FROM generate_series(1, 200) AS o, generate_series(1, 3) AS l;

COMMIT;
ANALYZE shop.customers, shop.products, shop.orders, shop.order_lines, shop.audit_log;
