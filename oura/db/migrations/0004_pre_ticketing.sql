-- Ticketing: orders and payments, media and contracts, validations, deny list, clearing ledger.
-- Money is bigint minor units with an ISO 4217 currency. Every time is timestamptz (UTC inside).

CREATE TABLE ticketing_accounts (
    account_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name text NOT NULL DEFAULT '',          -- minimal personal data: a name to print, an email to reach
    email        text,
    created_at   timestamptz NOT NULL
);

CREATE TABLE ticketing_media (
    medium_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial               text NOT NULL UNIQUE,       -- printed/encoded number the validators read
    kind                 text NOT NULL CHECK (kind IN ('smartcard', 'wallet', 'paper')),
    fare_media_id        text NOT NULL,              -- Fares v2 fare_media_id (oura-card, oura-wallet, paper)
    account_id           bigint REFERENCES ticketing_accounts,  -- NULL: anonymous medium
    issuing_authority_id text NOT NULL,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'stolen')),
    replaced_by          bigint REFERENCES ticketing_media,     -- set once, by reconstitution
    created_at           timestamptz NOT NULL
);

CREATE TABLE ticketing_orders (
    order_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sales_point_key_id   text NOT NULL,              -- the API key of the selling machine/desk/shop
    idempotency_key      text NOT NULL,
    request_hash         text NOT NULL,              -- same key with another body is refused
    selling_authority_id text NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('vending_machine', 'desk', 'web', 'app')),
    status               text NOT NULL CHECK (status IN ('pending', 'paid', 'declined', 'refunded')),
    total_minor          bigint NOT NULL CHECK (total_minor >= 0),
    currency             text NOT NULL,
    refunded_minor       bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor),
    request              jsonb NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT ticketing_orders_idempotency UNIQUE (sales_point_key_id, idempotency_key)
);

CREATE TABLE ticketing_order_lines (
    order_id             bigint NOT NULL REFERENCES ticketing_orders,
    line_no              integer NOT NULL,
    fare_product_id      text NOT NULL,
    rider_category_id    text,
    fare_media_id        text,
    quantity             integer NOT NULL CHECK (quantity > 0),
    unit_price_minor     bigint NOT NULL CHECK (unit_price_minor >= 0),
    amount_minor         bigint NOT NULL CHECK (amount_minor >= 0),
    currency             text NOT NULL,
    network_ids          text[] NOT NULL,
    owning_authority_ids text[] NOT NULL,
    medium_id            bigint REFERENCES ticketing_media,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE ticketing_payments (
    payment_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           bigint NOT NULL REFERENCES ticketing_orders,
    kind               text NOT NULL CHECK (kind IN ('charge', 'refund')),
    provider           text NOT NULL,
    provider_reference text NOT NULL,
    amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
    currency           text NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT ticketing_payments_once UNIQUE (provider, provider_reference, kind)
);
CREATE INDEX ticketing_payments_order_idx ON ticketing_payments (order_id);

CREATE TABLE ticketing_contracts (
    contract_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    medium_id            bigint NOT NULL REFERENCES ticketing_media,
    order_id             bigint REFERENCES ticketing_orders,
    line_no              integer,
    fare_product_id      text NOT NULL,
    rider_category_id    text,
    network_ids          text[] NOT NULL,
    area_ids             text[] NOT NULL DEFAULT '{}',
    valid_from           timestamptz NOT NULL,
    valid_until          timestamptz,                -- NULL: not activated yet, or no end
    duration_s           integer,                    -- validity from first use; NULL: one journey
    trips_total          integer,                    -- NULL: unlimited
    remaining_trips      integer CHECK (remaining_trips >= 0),
    transfer_window_s    integer NOT NULL DEFAULT 0,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'refunded', 'transferred')),
    first_used_at        timestamptz,
    last_counted_at      timestamptz,                -- last boarding that consumed a trip
    last_route_id        text,
    reconstituted_from   bigint REFERENCES ticketing_contracts,
    created_at           timestamptz NOT NULL
);
CREATE INDEX ticketing_contracts_medium_idx ON ticketing_contracts (medium_id) WHERE status = 'active';
CREATE INDEX ticketing_contracts_order_idx ON ticketing_contracts (order_id);

CREATE TABLE ticketing_denylist (
    version    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- validators ask for entries after theirs
    medium_id  bigint NOT NULL REFERENCES ticketing_media,
    serial     text NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('lost', 'stolen', 'replaced')),
    created_at timestamptz NOT NULL
);

CREATE TABLE ticketing_validations (
    device_key_id   text NOT NULL,
    event_id        text NOT NULL,
    authority_id    text NOT NULL,
    medium_serial   text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    stop_id         text NOT NULL,
    route_id        text NOT NULL,
    direction_id    smallint,
    network_id      text,
    accepted        boolean NOT NULL,
    reason          text NOT NULL,
    contract_id     bigint,
    remaining_trips integer,
    received_at     timestamptz NOT NULL,
    PRIMARY KEY (device_key_id, event_id)
);

-- Commission kept by a selling authority on another network's product, in permille of the price.
-- The row with selling_authority_id '*' is the default.
CREATE TABLE ticketing_commission_rates (
    selling_authority_id text PRIMARY KEY,
    commission_permille  integer NOT NULL CHECK (commission_permille BETWEEN 0 AND 1000)
);
INSERT INTO ticketing_commission_rates (selling_authority_id, commission_permille) VALUES ('*', 50);

-- Append-only: who holds the money (collector: the selling authority) and whom it belongs to
-- (beneficiary). Refunds are negative rows. Sum of amount_minor = money taken, always.
CREATE TABLE ticketing_ledger (
    entry_id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id                 bigint NOT NULL REFERENCES ticketing_orders,
    line_no                  integer NOT NULL,
    kind                     text NOT NULL CHECK (kind IN ('revenue', 'commission')),
    collector_authority_id   text NOT NULL,
    beneficiary_authority_id text NOT NULL,
    network_id               text,
    amount_minor             bigint NOT NULL,
    currency                 text NOT NULL,
    booked_at                timestamptz NOT NULL
);
CREATE INDEX ticketing_ledger_booked_idx ON ticketing_ledger (booked_at);
CREATE INDEX ticketing_ledger_order_idx ON ticketing_ledger (order_id);

CREATE FUNCTION ticketing_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticketing_ledger is append-only';
END;
$$;
CREATE TRIGGER ticketing_ledger_no_change BEFORE UPDATE OR DELETE ON ticketing_ledger
    FOR EACH ROW EXECUTE FUNCTION ticketing_ledger_append_only();
