-- name: insert_disruption
-- A new disruption; returns its row.
INSERT INTO disruptions (authority_id, network_id, kind, spec, period_start, period_end, cause, effect,
                         header_text, description_text, url, created_at, updated_at, created_by_key,
                         idempotency_key, request_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15)
RETURNING *;

-- name: find_by_idempotency_key
-- The disruption a key already created with this Idempotency-Key, and the request's hash.
SELECT * FROM disruptions WHERE created_by_key = $1 AND idempotency_key = $2;

-- name: get_disruption
SELECT * FROM disruptions WHERE disruption_id = $1;

-- name: get_disruption_for_update
SELECT * FROM disruptions WHERE disruption_id = $1 FOR UPDATE;

-- name: update_disruption
-- New period and texts (PATCH).
UPDATE disruptions SET period_start = $2, period_end = $3, cause = $4, header_text = $5,
                       description_text = $6, url = $7, updated_at = $8
WHERE disruption_id = $1
RETURNING *;

-- name: end_disruption
-- DELETE keeps the row, marked ended.
UPDATE disruptions SET ended_at = $2, updated_at = $2 WHERE disruption_id = $1 AND ended_at IS NULL
RETURNING *;

-- name: list_disruptions
-- Disruptions of one authority ($1 NULL: every authority), the ended ones only if $2, newest first.
SELECT * FROM disruptions
WHERE ($1::text IS NULL OR authority_id = $1) AND ($2 OR ended_at IS NULL)
ORDER BY disruption_id DESC
LIMIT $3;

-- name: list_current_disruptions
-- Every disruption not ended whose period has not passed (active or upcoming).
SELECT * FROM disruptions
WHERE ended_at IS NULL AND (period_end IS NULL OR period_end > $1)
ORDER BY disruption_id;

-- name: insert_audit
INSERT INTO disruption_audit (disruption_id, action, key_id, authority_id, at, before, after)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: list_audit
SELECT * FROM disruption_audit WHERE disruption_id = $1 ORDER BY audit_id;
