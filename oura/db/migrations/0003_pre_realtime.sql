-- Realtime (feeds/realtime): GTFS-realtime service alerts, replaced atomically per feed on each
-- fetch, and the last known status of every realtime source (read by `oura feeds report`).
-- Ids in the alert tables are namespaced like every downstream id (<feed_id>:<original id>),
-- except entity_id, which is the publisher's FeedEntity id within its feed.

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
