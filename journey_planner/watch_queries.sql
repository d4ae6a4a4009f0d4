-- SQL of watched journeys (journey_planner.watch_service); asyncpg placeholders.

-- name: insert_watch
-- A new watch: ok, or already broken when its itinerary does not hold at creation (no event then).
INSERT INTO watches (watch_id, itinerary_id, medium_serial, webhook_url, created_at, expires_at, status, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: list_live_watches
-- The watches to load into the index at start-up (not expired yet, by status).
SELECT watch_id, itinerary_id, medium_serial, webhook_url, created_at, expires_at, status, reason, last_event_id
FROM watches WHERE status <> 'expired' ORDER BY created_at;

-- name: find_watch
SELECT watch_id, itinerary_id, medium_serial, webhook_url, created_at, expires_at, status, reason, last_event_id
FROM watches WHERE watch_id = $1;

-- name: record_event
-- One event of a watch, and the watch's new state, in one statement (the event id is the watch's next).
WITH updated AS (
    UPDATE watches SET status = $3, reason = $4, last_event_id = $2
    WHERE watch_id = $1 AND last_event_id < $2
    RETURNING watch_id
)
INSERT INTO watch_events (watch_id, event_id, kind, data, created_at)
SELECT watch_id, $2, $5, $6::jsonb, $7 FROM updated;

-- name: list_events_after
-- The events of a watch after an event id (Last-Event-ID), oldest first.
SELECT event_id, kind, data::text AS data FROM watch_events
WHERE watch_id = $1 AND event_id > $2 ORDER BY event_id LIMIT $3;

-- name: delete_watch
DELETE FROM watches WHERE watch_id = $1;

-- name: delete_expired_before
-- Expired watches (and their events, by cascade) expired before $1: kept a while for late readers.
DELETE FROM watches WHERE status = 'expired' AND expires_at < $1;
