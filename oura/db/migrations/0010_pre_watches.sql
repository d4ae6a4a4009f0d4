-- Watched journeys (issue 13): a traveller's watch on an itinerary id, and the events it got.
--
-- * watches: the watch id is the capability (secrets.token_urlsafe, nobody else can guess it), so
--   no key or account is stored. medium_serial is the card or wallet whose tickets alternatives
--   are checked against (optional); webhook_url where events are also POSTed (optional). A watch
--   is loaded back into the planner's index at start-up until it expires (status 'expired': kept
--   a while, deleted later).
-- * watch_events: every event sent (broken, restored, expired), replayed to an SSE client that
--   reconnects with Last-Event-ID; event_id increases per watch.

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
