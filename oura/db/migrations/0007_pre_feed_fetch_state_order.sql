-- Feeds: when the download of the attempt that last wrote a network's fetch state started, so
-- that a slow older attempt (a 304, unchanged bytes or a failure arriving late) never overwrites
-- the state (health, validators) written by a newer one. States recorded before this migration
-- take their attempt time as their start.

ALTER TABLE feed_fetch_state ADD COLUMN last_fetch_started_at timestamptz;

UPDATE feed_fetch_state SET last_fetch_started_at = last_attempt_at;

ALTER TABLE feed_fetch_state ALTER COLUMN last_fetch_started_at SET NOT NULL;
