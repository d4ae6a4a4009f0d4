-- The full current schema of OùRA: what applying every migration in oura/db/migrations to an
-- empty database produces (tests/oura/db/test_migrations.py checks that they agree).
-- Each package keeps its own section; edit it together with the package's new migration.

-- == foundation (0001) ==
CREATE TABLE api_keys (
    key_id       text PRIMARY KEY,                 -- public part of the key, shown in listings
    secret_hash  bytea NOT NULL,                   -- sha256 of the secret part; the secret itself is never stored
    role         text NOT NULL CHECK (role IN ('device', 'sales_point', 'authority', 'admin', 'metrics')),  -- metrics (0008)
    authority_id text,                             -- required for every role but admin and metrics
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_authority_scope CHECK (role IN ('admin', 'metrics') OR authority_id IS NOT NULL)
);

CREATE TABLE audit_log (
    audit_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action       text NOT NULL,                    -- dotted name, e.g. ticketing.order.placed
    actor_key_id text,                             -- api key that caused it, if any
    authority_id text,
    subject      text,                             -- the entity acted upon, e.g. order:42
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at);

-- == feeds (0002) ==
CREATE TABLE feed_versions (
    version_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network_id     text NOT NULL,                  -- registry network id == feed id (id namespace)
    authority_id   text NOT NULL,
    sha256         text NOT NULL,                  -- of the zip as stored (folders zipped deterministically)
    source         text NOT NULL,                  -- URL or path it was fetched from
    status         text NOT NULL CHECK (status IN ('accepted', 'rejected', 'superseded')),  -- superseded (0006)
    fetch_started_at timestamptz NOT NULL,         -- download start: the later one serves (0006)
    fetched_at     timestamptz NOT NULL,
    validity_start date,                           -- first service day the feed describes
    validity_end   date,                           -- last service day the feed describes
    size_bytes     bigint NOT NULL DEFAULT 0,
    counts         jsonb NOT NULL DEFAULT '{}'::jsonb,   -- file stem -> rows
    issue_counts   jsonb NOT NULL DEFAULT '{}'::jsonb,   -- severity -> issue code -> occurrences
    summary        text NOT NULL DEFAULT '',       -- plain-words verdict shown by `oura feeds report`
    content_path   text,                           -- content-addressed zip; NULL for rejected versions
    etag           text,
    last_modified  text
);
CREATE INDEX feed_versions_network_idx ON feed_versions (network_id, fetched_at DESC);
CREATE INDEX feed_versions_sha_idx ON feed_versions (network_id, sha256);

CREATE TABLE feed_issues (
    version_id   bigint NOT NULL REFERENCES feed_versions (version_id) ON DELETE CASCADE,
    ordinal      integer NOT NULL,
    code         text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('fatal', 'warning', 'info')),
    file         text,
    row_number   integer,                          -- line in the file (header = line 1)
    entity_id    text,
    field        text,
    value        text,
    message      text NOT NULL,
    occurrences  integer NOT NULL DEFAULT 1,       -- > 1 when the issue stands for a capped series
    PRIMARY KEY (version_id, ordinal)
);

CREATE TABLE feed_current (
    network_id   text PRIMARY KEY,
    version_id   bigint NOT NULL REFERENCES feed_versions (version_id),
    published_at timestamptz NOT NULL
);

CREATE TABLE feed_fetch_state (
    network_id           text PRIMARY KEY,
    authority_id         text NOT NULL,
    last_attempt_at      timestamptz NOT NULL,
    last_fetch_started_at timestamptz NOT NULL,    -- that attempt's download start; only a later one overwrites (0007)
    last_outcome         text NOT NULL CHECK (last_outcome IN ('accepted', 'rejected', 'unchanged', 'not_modified', 'failed')),
    last_error           text,
    last_sha256          text,                     -- content last fetched (accepted or rejected)
    etag                 text,
    last_modified        text,
    consecutive_failures integer NOT NULL DEFAULT 0
);


-- == realtime (0003) ==
CREATE TABLE rt_alerts (
    feed_id          text NOT NULL,
    entity_id        text NOT NULL,
    cause            text NOT NULL,
    effect           text NOT NULL,
    severity_level   text NOT NULL,
    header_text      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- language ("" when none) -> text
    description_text jsonb NOT NULL DEFAULT '{}'::jsonb,
    url              jsonb NOT NULL DEFAULT '{}'::jsonb,
    received_at      timestamptz NOT NULL,
    PRIMARY KEY (feed_id, entity_id)
);

-- An alert without any period is active whenever it is published (GTFS-realtime rule).
CREATE TABLE rt_alert_active_periods (
    feed_id   text NOT NULL,
    entity_id text NOT NULL,
    period    tstzrange NOT NULL,                -- unbounded side when the publisher gives none
    FOREIGN KEY (feed_id, entity_id) REFERENCES rt_alerts (feed_id, entity_id) ON DELETE CASCADE
);
CREATE INDEX rt_alert_active_periods_alert_idx ON rt_alert_active_periods (feed_id, entity_id);

CREATE TABLE rt_alert_informed_entities (
    feed_id      text NOT NULL,
    entity_id    text NOT NULL,
    agency_id    text,                           -- namespaced
    route_id     text,                           -- namespaced
    route_type   integer,
    direction_id smallint,
    stop_id      text,                           -- namespaced
    trip_id      text,                           -- namespaced
    FOREIGN KEY (feed_id, entity_id) REFERENCES rt_alerts (feed_id, entity_id) ON DELETE CASCADE
);
CREATE INDEX rt_alert_informed_entities_alert_idx ON rt_alert_informed_entities (feed_id, entity_id);
CREATE INDEX rt_alert_informed_entities_stop_idx ON rt_alert_informed_entities (stop_id);
CREATE INDEX rt_alert_informed_entities_route_idx ON rt_alert_informed_entities (route_id);

CREATE TABLE rt_feed_status (
    feed_id          text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('trip_updates', 'alerts', 'vehicle_positions')),
    url              text NOT NULL,
    poll_s           integer NOT NULL,
    last_fetch_at    timestamptz,
    last_success_at  timestamptz,
    header_timestamp timestamptz,                -- of the state being served
    entity_count     integer NOT NULL DEFAULT 0,
    applied_count    integer NOT NULL DEFAULT 0,
    stale            boolean NOT NULL DEFAULT false,
    last_error       text NOT NULL DEFAULT '',
    error_counts     jsonb NOT NULL DEFAULT '{}'::jsonb,  -- RtErrorType value -> count since start
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (feed_id, kind)
);

-- == ticketing (0004, 0005, 0008) ==
-- Ticketing: orders and payments, media and contracts, validations, deny list, clearing ledger.
-- Money is bigint minor units with an ISO 4217 currency. Every time is timestamptz (UTC inside).

CREATE TABLE ticketing_accounts (
    account_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name text NOT NULL DEFAULT '',          -- minimal personal data: a name to print, an email to reach
    email        text,
    created_at   timestamptz NOT NULL,
    account_number text NOT NULL,                   -- random, given to the holder, never printed on the card (0008)
    CONSTRAINT ticketing_accounts_account_number_key UNIQUE (account_number)
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
    created_at           timestamptz NOT NULL,
    secret_hash          bytea                       -- sha256 of the secret printed on an anonymous medium (0008)
);

-- A medium may be sold a rider category other than the default only while it holds a valid
-- entitlement for it (0008): a minimal claim (who checked the proof, until when), never the document.
CREATE TABLE ticketing_entitlements (
    entitlement_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    medium_id                bigint NOT NULL REFERENCES ticketing_media,
    rider_category_id        text NOT NULL,
    verified_by_authority_id text NOT NULL,
    verified_by_key_id       text NOT NULL,
    valid_until              timestamptz NOT NULL,
    created_at               timestamptz NOT NULL
);
CREATE INDEX ticketing_entitlements_medium_idx ON ticketing_entitlements (medium_id, rider_category_id, valid_until);

CREATE TABLE ticketing_orders (
    order_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sales_point_key_id   text NOT NULL,              -- the API key of the selling machine/desk/shop
    idempotency_key      text NOT NULL,
    request_hash         text NOT NULL,              -- same key with another body is refused
    selling_authority_id text NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('vending_machine', 'desk', 'web', 'app')),
    status               text NOT NULL CHECK (status IN ('pending', 'paid', 'declined', 'refunded', 'partially_refunded', 'failed')),
    failure_code         text,                       -- why a failed order failed (medium_not_active, abandoned)
    failure_detail       jsonb,                      -- its details; both NULL unless failed
    total_minor          bigint NOT NULL CHECK (total_minor >= 0),
    currency             text NOT NULL,
    refunded_minor       bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor),
    request              jsonb NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT ticketing_orders_idempotency UNIQUE (sales_point_key_id, idempotency_key),
    CONSTRAINT ticketing_orders_failure
        CHECK ((status = 'failed') = (failure_code IS NOT NULL) AND (status = 'failed' OR failure_detail IS NULL))
);
CREATE INDEX ticketing_orders_pending_idx ON ticketing_orders (created_at) WHERE status = 'pending';  -- reconciliation (0005)

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
    medium_serial   text,                        -- NULL once purged (0011): kept only for the retention
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
    purged_at       timestamptz,                 -- when medium_serial and contract_id were removed (0011)
    PRIMARY KEY (device_key_id, event_id)
);
CREATE INDEX ticketing_validations_occurred_idx ON ticketing_validations (occurred_at);  -- purge and release (0011)

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

-- Watched journeys (issue 13, 0010): the watch id is the capability; events are replayed to SSE
-- clients after Last-Event-ID; expired watches are kept a while, then deleted.
CREATE TABLE watches (
    watch_id      text PRIMARY KEY,
    itinerary_id  text NOT NULL,
    medium_serial text,
    webhook_url   text,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('ok', 'broken', 'expired')),
    reason        text[] NOT NULL DEFAULT '{}',  -- problem codes (code@leg) of the last broken event
    last_event_id integer NOT NULL DEFAULT 0
);
CREATE INDEX watches_live_idx ON watches (expires_at) WHERE status <> 'expired';

CREATE TABLE watch_events (
    watch_id   text NOT NULL REFERENCES watches ON DELETE CASCADE,
    event_id   integer NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('broken', 'restored', 'expired')),
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (watch_id, event_id)
);

-- Operator disruptions (issue 13): what an authority declares (a closed stop, a cut route, cancelled
-- trips, a replacement bus) for a period, and the audit of every change made to them.
CREATE TABLE disruptions (
    disruption_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority_id     text NOT NULL,   -- the authority owning the network
    network_id       text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('close_stop', 'cut_route', 'cancel_trips', 'replacement_bus')),
    spec             jsonb NOT NULL,  -- the kind's fields, ids namespaced
    period_start     timestamptz NOT NULL,
    period_end       timestamptz,     -- NULL: until further notice
    cause            text NOT NULL,
    effect           text NOT NULL,
    header_text      jsonb NOT NULL,  -- language -> text
    description_text jsonb NOT NULL,
    url              jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    ended_at         timestamptz,     -- set by DELETE: the row is kept for the audit
    created_by_key   text NOT NULL,
    idempotency_key  text,
    request_hash     text,
    CHECK (period_end IS NULL OR period_end > period_start)
);
CREATE UNIQUE INDEX disruptions_idempotency_idx ON disruptions (created_by_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX disruptions_open_idx ON disruptions (network_id) WHERE ended_at IS NULL;

-- Append-only: who changed a disruption (key and its authority, NULL for an admin), when, and how.
CREATE TABLE disruption_audit (
    audit_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    disruption_id bigint NOT NULL REFERENCES disruptions,
    action        text NOT NULL CHECK (action IN ('create', 'update', 'end')),
    key_id        text NOT NULL,
    authority_id  text,
    at            timestamptz NOT NULL,
    before        jsonb,
    after         jsonb NOT NULL
);
CREATE INDEX disruption_audit_disruption_idx ON disruption_audit (disruption_id);

CREATE FUNCTION disruption_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disruption_audit is append-only';
END;
$$;
CREATE TRIGGER disruption_audit_no_change BEFORE UPDATE OR DELETE ON disruption_audit
    FOR EACH ROW EXECUTE FUNCTION disruption_audit_append_only();

-- == statistics (0011) ==
-- Anonymised statistics (issue 14).
--
-- * ticketing_validations keeps the medium serial (and the contract it used, which leads to the
--   medium) only while fraud detection and trip chaining need it: a background job sets both to
--   NULL once occurred_at is older than the retention (48 h by default) and stamps purged_at. The
--   (device, event id) key stays, so a retried upload is still applied once.
-- * stat_releases: one row per released period (a service day or a month) and kind, computed once;
--   method and parameters say how it was protected (k, suppression, differential privacy).
-- * stat_cells: the released numbers, nothing else. A cell belongs to a family (a table layout:
--   route_hour, stop, ...) and a scope (a network, or a selling authority and owner networks);
--   row_key/col_key are its categories, '*' in a margin. count NULL: suppressed. Who may read a
--   scope is in authority_ids. No serial, account, key or order id is ever stored here.
-- * stat_privacy_ledger: the privacy budget spent, per authority and period, one row per noisy
--   family released; the sum over a period never exceeds the configured budget.

CREATE TABLE stat_releases (
    release_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('validations', 'sales', 'od')),
    period_kind  text NOT NULL CHECK (period_kind IN ('day', 'month')),
    period_start date NOT NULL,          -- the service day (04:00 to 04:00 in the region's zone), or the month's first day
    method       text NOT NULL CHECK (method IN ('suppression', 'laplace', 'gaussian')),
    parameters   jsonb NOT NULL,         -- k, epsilon, delta, noise scale, contribution bounds, ...
    created_at   timestamptz NOT NULL,
    CONSTRAINT stat_releases_once UNIQUE (kind, period_kind, period_start)
);

CREATE TABLE stat_cells (
    release_id      bigint NOT NULL REFERENCES stat_releases ON DELETE CASCADE,
    family          text NOT NULL,
    scope           text NOT NULL,
    row_key         text NOT NULL,       -- '*': the margin over rows
    col_key         text NOT NULL,       -- '*': the margin over columns; '' in a one-dimensional family
    count           bigint CHECK (count >= 0),   -- NULL: suppressed
    amount_minor    bigint,              -- money (sales families), NULL elsewhere or suppressed
    parts_suppressed integer NOT NULL DEFAULT 0, -- month cells: day cells left out because suppressed (count is then a lower bound)
    authority_ids   text[] NOT NULL,     -- authorities that may read this scope (admin reads all)
    network_ids     text[] NOT NULL,     -- networks the scope is about
    PRIMARY KEY (release_id, family, scope, row_key, col_key)
);
CREATE INDEX stat_cells_authority_idx ON stat_cells USING gin (authority_ids);

CREATE TABLE stat_privacy_ledger (
    entry_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority_id text NOT NULL,
    period_kind  text NOT NULL CHECK (period_kind IN ('day', 'month')),
    period_start date NOT NULL,
    release_id   bigint NOT NULL REFERENCES stat_releases ON DELETE CASCADE,
    family       text NOT NULL,
    mechanism    text NOT NULL CHECK (mechanism IN ('laplace', 'gaussian')),
    epsilon      double precision NOT NULL CHECK (epsilon > 0),
    delta        double precision NOT NULL DEFAULT 0 CHECK (delta >= 0),
    scale        double precision NOT NULL,    -- the noise's scale (Laplace b, or Gaussian sigma) on counts
    sensitivity  double precision NOT NULL,    -- the contribution bound it was calibrated to
    created_at   timestamptz NOT NULL
);
CREATE INDEX stat_privacy_ledger_period_idx ON stat_privacy_ledger (authority_id, period_kind, period_start);

-- == nfc_gateway: remote loads (0012, 0015) ==
-- NFC gateway, remote loads (issue 15): what the server owes each card or wallet, and its copy of each card.
--
-- * nfc_load_jobs: one row per contract (or counter top-up) to write onto a medium, moved through
--   pending -> written -> confirmed (or pending -> refunded past its deadline, or cancelled when
--   its contract left the medium) by conditional UPDATEs only. card_contract_serial is the
--   ContractSerialNumber written on the card (the ticketing contract id): a read of the card
--   recognises the load by it. offered_at: when a session last got the job to write; the card may
--   then hold it, so the job is not refunded before a later read shows it absent (NULL again).
--   No foreign key into ticketing's tables: the gateway reads them through ticketing's modules.
--   A top-up (0015) adds trips to the contract of serial top_up_of on the card, rank top_up_seq
--   among its top-ups; the card's contract record carries the rank of the last one applied.
-- * nfc_card_mirror: the server's copy of a card (CardImage JSON), updated in the transaction that
--   confirms a load or records a read.
-- * nfc_tariff_codes, nfc_provider_codes: stable card codes (ContractTariff, ContractProvider) of a
--   fare product and of an authority, assigned on first use.

CREATE TABLE nfc_tariff_codes (
    fare_product_id text PRIMARY KEY,
    tariff          integer NOT NULL CHECK (tariff BETWEEN 1 AND 16383),
    created_at      timestamptz NOT NULL,
    CONSTRAINT nfc_tariff_codes_tariff_key UNIQUE (tariff)
);

CREATE TABLE nfc_provider_codes (
    authority_id text PRIMARY KEY,
    provider     integer NOT NULL CHECK (provider BETWEEN 1 AND 255),
    created_at   timestamptz NOT NULL,
    CONSTRAINT nfc_provider_codes_provider_key UNIQUE (provider)
);

CREATE TABLE nfc_load_jobs (
    job_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    medium_serial        text NOT NULL,
    contract_id          bigint NOT NULL,              -- ticketing_contracts.contract_id the load carries
    kind                 text NOT NULL CHECK (kind IN ('contract', 'top_up')),
    status               text NOT NULL CHECK (status IN ('pending', 'written', 'confirmed', 'refunded', 'cancelled')),
    card_contract_serial bigint NOT NULL CHECK (card_contract_serial BETWEEN 1 AND 4294967295),
    tariff               integer NOT NULL,
    network_id           integer NOT NULL,
    provider             integer NOT NULL,
    valid_from           timestamptz NOT NULL,
    valid_until          timestamptz,
    trips                integer CHECK (trips >= 0),   -- counter to write (to add, for a top-up); NULL: none
    deadline             timestamptz NOT NULL,         -- still pending then (and not in doubt): refunded
    offered_at           timestamptz,                  -- last handed to a session to write; NULL: not since the last read
    session_id           text,
    card_record          integer,
    confirmed_by         text CHECK (confirmed_by IN ('session', 'read', 'use')),
    created_at           timestamptz NOT NULL,
    written_at           timestamptz,
    confirmed_at         timestamptz,
    refunded_at          timestamptz,
    top_up_of            bigint CHECK (top_up_of BETWEEN 1 AND 4294967295),  -- a top-up: the card contract it adds to (0015)
    top_up_seq           integer CHECK (top_up_seq >= 1),                    -- its rank among that contract's top-ups (0015)
    CONSTRAINT nfc_load_jobs_contract_once UNIQUE (contract_id),
    CONSTRAINT nfc_load_jobs_card_serial UNIQUE (medium_serial, card_contract_serial),
    CONSTRAINT nfc_load_jobs_stamps CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL AND confirmed_by IS NOT NULL)
                                           AND (status = 'refunded') = (refunded_at IS NOT NULL)
                                           AND (status <> 'written' OR session_id IS NOT NULL)),
    CONSTRAINT nfc_load_jobs_top_up
        CHECK ((kind = 'top_up') = (top_up_of IS NOT NULL) AND (top_up_of IS NULL) = (top_up_seq IS NULL)),
    CONSTRAINT nfc_load_jobs_top_up_rank UNIQUE (medium_serial, top_up_of, top_up_seq)
);
CREATE INDEX nfc_load_jobs_medium_idx ON nfc_load_jobs (medium_serial, job_id);
CREATE INDEX nfc_load_jobs_due_idx ON nfc_load_jobs (deadline) WHERE status = 'pending';

CREATE TABLE nfc_card_mirror (
    medium_serial text PRIMARY KEY,
    image         jsonb NOT NULL,                      -- nfc_gateway.remote.model.CardImage.to_json()
    version       bigint NOT NULL,                     -- 1 at the first copy, +1 at every update
    updated_at    timestamptz NOT NULL
);

-- == nfc_gateway: devices (0013) ==
-- NFC gateway, devices (issue 15): vending machines and validators registered by an admin, what
-- they last told the server, and the sales vending machines made while offline.
--
-- * nfc_devices: one row per device, bound to the API key (role device) it was given at
--   registration; revoking the device revokes the key. last_contact_at is the last heartbeat,
--   deny-list acknowledgement or upload; denylist_version only goes up (the highest acknowledged).
--   offline_credit_limit_minor is set for vending machines only.
-- * nfc_device_offline_windows: the periods a device was silent for longer than the contact gap
--   (from its last contact before the silence to the contact that ended it). A sale sold inside
--   one counts against the machine's offline credit of that window.
-- * nfc_offline_sales: every sale a vending machine uploaded, once per (device, sequence): the
--   sale as sent (its hash decides whether a second upload is the same sale), the window it was
--   counted in (NULL: sold while online), and its outcome: accepted (credit reserved, the order
--   is being made), sold (order_id) or refused (refusal_code, and the credit is not used).

CREATE TABLE nfc_devices (
    device_id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority_id               text NOT NULL,
    kind                       text NOT NULL CHECK (kind IN ('vending_machine', 'validator')),
    label                      text NOT NULL,
    key_id                     text NOT NULL UNIQUE REFERENCES api_keys,
    offline_credit_limit_minor bigint CHECK (offline_credit_limit_minor >= 0),
    created_at                 timestamptz NOT NULL,
    revoked_at                 timestamptz,
    last_contact_at            timestamptz,
    last_heartbeat_at          timestamptz,
    reported_last_sequence     bigint CHECK (reported_last_sequence >= 0),  -- the machine's own count, from its heartbeats
    denylist_version           bigint NOT NULL DEFAULT 0 CHECK (denylist_version >= 0),
    denylist_acked_at          timestamptz,
    CONSTRAINT nfc_devices_credit CHECK ((kind = 'vending_machine') = (offline_credit_limit_minor IS NOT NULL))
);
CREATE INDEX nfc_devices_authority_idx ON nfc_devices (authority_id, device_id);

CREATE TABLE nfc_device_offline_windows (
    device_id       bigint NOT NULL REFERENCES nfc_devices,
    offline_from    timestamptz NOT NULL,
    online_again_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, offline_from),
    CONSTRAINT nfc_device_offline_windows_order CHECK (online_again_at > offline_from)
);

CREATE TABLE nfc_offline_sales (
    device_id      bigint NOT NULL REFERENCES nfc_devices,
    sequence       bigint NOT NULL CHECK (sequence >= 1),
    request_hash   text NOT NULL,
    sale           jsonb NOT NULL,
    sold_at        timestamptz NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor >= 0),
    payment_method text NOT NULL CHECK (payment_method IN ('cash', 'card')),
    window_from    timestamptz,
    status         text NOT NULL CHECK (status IN ('accepted', 'sold', 'refused')),
    order_id       bigint,
    refusal_code   text,
    refusal_detail text,
    received_at    timestamptz NOT NULL,
    decided_at     timestamptz,
    PRIMARY KEY (device_id, sequence),
    CONSTRAINT nfc_offline_sales_outcome CHECK ((status = 'refused') = (refusal_code IS NOT NULL)
                                                AND (status = 'sold') = (order_id IS NOT NULL))
);
CREATE INDEX nfc_offline_sales_window_idx ON nfc_offline_sales (device_id, window_from) WHERE status <> 'refused';

-- == nfc_gateway: remote sessions (0014) ==
-- Remote card sessions of the Keyple Distributed JSON API (issue 15, nfc_gateway.remote.sessions).
--
-- One row per sessionId (the terminal's card transaction): a sessionId is used once, ever (a
-- reused one is refused). step is what the session expects next: 'awaiting' a RESP to the
-- service named by expected_service, 'processing' a message (a second message meanwhile is out of
-- order), 'ended'. digests holds the SHA-256 of every message received in the session, so a
-- replayed message is recognised and refused; messages counts them (round trips of the session).
-- key_id is the device key that opened it: only that key may continue it. medium_serial is the
-- card read (once known); outcome says how it ended (done, failed, lost).

CREATE TABLE nfc_remote_sessions (
    session_id        text PRIMARY KEY,
    key_id            text NOT NULL,
    client_node_id    text NOT NULL,
    local_reader_name text,
    api_level         smallint NOT NULL,
    service_id        text NOT NULL,
    step              text NOT NULL CHECK (step IN ('awaiting', 'processing', 'ended')),
    expected_service  text,
    messages          integer NOT NULL DEFAULT 1,
    last_digest       bytea NOT NULL,
    digests           bytea[] NOT NULL,
    medium_serial     text,
    outcome           text CHECK (outcome IN ('done', 'failed', 'lost')),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    ended_at          timestamptz
);
CREATE INDEX nfc_remote_sessions_medium_idx ON nfc_remote_sessions (medium_serial, created_at);

-- == journey_planner: carpool (0016, 0018) ==
-- Carpool (issue 16, journey_planner.carpool): the offers whose seats OùRA counts, bookings, and
-- the history of their statuses.
--
-- carpool_offers holds a driver journey per (operator, journey_id): the journeys drivers publish
-- through OùRA (hosted: served on OùRA's standard-covoiturage endpoints; operator is OùRA's own
-- id), and the other operators' journeys OùRA has booked (recorded at the first booking, with the
-- seats the operator announced). offer is the standard's DriverJourney as published or as the
-- operator sent it. A booking locks its offer's row (SELECT ... FOR UPDATE) before counting the
-- seats its live bookings hold: a seat is never sold twice. Hosted drivers' identity for the
-- proof register is kept as the register takes it (phone truncated, identity key), never the
-- phone itself.
--
-- carpool_bookings: a booking through OùRA's API carries the traveller's Idempotency-Key (unique,
-- with the digest of the request it came with); a booking posted by another platform on the
-- standard's POST /bookings has none (its id, a UUID, is its key). status follows the standard:
-- WAITING_CONFIRMATION -> CONFIRMED -> COMPLETED_PENDING_VALIDATION -> VALIDATED, or CANCELLED.
-- Seats are held by every status but CANCELLED. carpool_booking_events: one row per status
-- taken, with who set it (source). A VALIDATED booking of a hosted journey is exported to the
-- proof register in the window of its validation (0018): proof_exported_at is its first export.

CREATE TABLE carpool_offers (
    operator              text NOT NULL,
    journey_id            text NOT NULL,
    hosted                boolean NOT NULL,
    seats                 smallint NOT NULL CHECK (seats BETWEEN 0 AND 8),
    pickup_at             timestamptz NOT NULL,
    pickup_lat            double precision NOT NULL,
    pickup_lng            double precision NOT NULL,
    drop_lat              double precision NOT NULL,
    drop_lng              double precision NOT NULL,
    offer                 jsonb NOT NULL,
    driver_phone_trunc    text,
    driver_identity_key   text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (operator, journey_id)
);
CREATE INDEX carpool_offers_hosted_idx ON carpool_offers (pickup_at) WHERE hosted;

CREATE TABLE carpool_regular_trips (
    operator              text NOT NULL,
    trip_id               text NOT NULL,
    pickup_lat            double precision NOT NULL,
    pickup_lng            double precision NOT NULL,
    drop_lat              double precision NOT NULL,
    drop_lng              double precision NOT NULL,
    trip                  jsonb NOT NULL,
    created_at            timestamptz NOT NULL,
    PRIMARY KEY (operator, trip_id)
);

CREATE TABLE carpool_bookings (
    booking_id             uuid PRIMARY KEY,
    idempotency_key        text UNIQUE,
    request_digest         bytea,
    operator               text NOT NULL,
    journey_id             text NOT NULL,
    seats                  smallint NOT NULL CHECK (seats BETWEEN 1 AND 8),
    status                 text NOT NULL CHECK (status IN ('WAITING_CONFIRMATION', 'CONFIRMED', 'CANCELLED',
                                                           'COMPLETED_PENDING_VALIDATION', 'VALIDATED')),
    origin                 text NOT NULL CHECK (origin IN ('oura', 'platform')),
    booking                jsonb NOT NULL,
    passenger_phone_trunc  text,
    passenger_identity_key text,
    medium_serial          text,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    proof_exported_at      timestamptz,  -- its first export to the proof register (0018)
    FOREIGN KEY (operator, journey_id) REFERENCES carpool_offers (operator, journey_id)
);
CREATE INDEX carpool_bookings_offer_idx ON carpool_bookings (operator, journey_id) WHERE status <> 'CANCELLED';
CREATE INDEX carpool_bookings_status_idx ON carpool_bookings (status, updated_at);

CREATE TABLE carpool_booking_events (
    booking_id  uuid NOT NULL REFERENCES carpool_bookings (booking_id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    status      text NOT NULL,
    source      text NOT NULL CHECK (source IN ('passenger', 'operator', 'platform', 'driver')),
    message     text,
    at          timestamptz NOT NULL,
    PRIMARY KEY (booking_id, seq)
);
CREATE INDEX carpool_booking_events_validated_idx ON carpool_booking_events (at) WHERE status = 'VALIDATED';
