-- The full current schema of OùRA: what applying every migration in oura/db/migrations to an
-- empty database produces (tests/oura/db/test_migrations.py checks that they agree).
-- Each package keeps its own section; edit it together with the package's new migration.

-- == foundation (0001) ==
CREATE TABLE api_keys (
    key_id       text PRIMARY KEY,                 -- public part of the key, shown in listings
    secret_hash  bytea NOT NULL,                   -- sha256 of the secret part; the secret itself is never stored
    role         text NOT NULL CHECK (role IN ('device', 'sales_point', 'authority', 'admin')),
    authority_id text,                             -- required for every role but admin
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_authority_scope CHECK (role = 'admin' OR authority_id IS NOT NULL)
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
    status         text NOT NULL CHECK (status IN ('accepted', 'rejected')),
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

-- == ticketing (0004) ==
