-- name: delete_feed_alerts
-- Forget every alert of one feed (children go by cascade) before writing its new set.
DELETE FROM rt_alerts WHERE feed_id = $1;

-- name: insert_alert
-- One alert of a feed.
INSERT INTO rt_alerts (feed_id, entity_id, cause, effect, severity_level, header_text,
                       description_text, url, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: insert_active_period
-- One active period of an alert; a NULL bound is an open side.
INSERT INTO rt_alert_active_periods (feed_id, entity_id, period)
VALUES ($1, $2, tstzrange($3::timestamptz, $4::timestamptz, '[)'));

-- name: insert_informed_entity
-- One informed entity of an alert, ids already namespaced.
INSERT INTO rt_alert_informed_entities (feed_id, entity_id, agency_id, route_id, route_type,
                                        direction_id, stop_id, trip_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: list_active_alerts
-- Alerts active at $1 (no period = always), optionally about stop $2 and/or route $3.
SELECT a.feed_id, a.entity_id, a.cause, a.effect, a.severity_level, a.header_text,
       a.description_text, a.url, a.received_at
FROM rt_alerts a
WHERE (NOT EXISTS (SELECT 1 FROM rt_alert_active_periods p
                   WHERE p.feed_id = a.feed_id AND p.entity_id = a.entity_id)
       OR EXISTS (SELECT 1 FROM rt_alert_active_periods p
                  WHERE p.feed_id = a.feed_id AND p.entity_id = a.entity_id
                    AND p.period @> $1::timestamptz))
  AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM rt_alert_informed_entities e
                                   WHERE e.feed_id = a.feed_id AND e.entity_id = a.entity_id
                                     AND e.stop_id = $2))
  AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM rt_alert_informed_entities e
                                   WHERE e.feed_id = a.feed_id AND e.entity_id = a.entity_id
                                     AND e.route_id = $3))
ORDER BY a.feed_id, a.entity_id
LIMIT $4;

-- name: list_alert_periods
-- Active periods of the alerts named by parallel arrays of feed ids and entity ids.
SELECT p.feed_id, p.entity_id, lower(p.period) AS start_at, upper(p.period) AS end_at
FROM rt_alert_active_periods p
JOIN unnest($1::text[], $2::text[]) AS k(feed_id, entity_id)
  ON p.feed_id = k.feed_id AND p.entity_id = k.entity_id
ORDER BY p.feed_id, p.entity_id, lower(p.period) NULLS FIRST;

-- name: list_alert_informed_entities
-- Informed entities of the alerts named by parallel arrays of feed ids and entity ids.
SELECT e.feed_id, e.entity_id, e.agency_id, e.route_id, e.route_type, e.direction_id,
       e.stop_id, e.trip_id
FROM rt_alert_informed_entities e
JOIN unnest($1::text[], $2::text[]) AS k(feed_id, entity_id)
  ON e.feed_id = k.feed_id AND e.entity_id = k.entity_id;

-- name: upsert_feed_status
-- The latest status of one realtime source.
INSERT INTO rt_feed_status (feed_id, kind, url, poll_s, last_fetch_at, last_success_at,
                            header_timestamp, entity_count, applied_count, stale, last_error,
                            error_counts, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (feed_id, kind) DO UPDATE SET
    url = EXCLUDED.url, poll_s = EXCLUDED.poll_s, last_fetch_at = EXCLUDED.last_fetch_at,
    last_success_at = EXCLUDED.last_success_at, header_timestamp = EXCLUDED.header_timestamp,
    entity_count = EXCLUDED.entity_count, applied_count = EXCLUDED.applied_count,
    stale = EXCLUDED.stale, last_error = EXCLUDED.last_error, error_counts = EXCLUDED.error_counts,
    updated_at = EXCLUDED.updated_at;

-- name: list_feed_statuses
-- Every realtime source's latest status.
SELECT feed_id, kind, url, poll_s, last_fetch_at, last_success_at, header_timestamp,
       entity_count, applied_count, stale, last_error, error_counts, updated_at
FROM rt_feed_status
ORDER BY feed_id, kind;
