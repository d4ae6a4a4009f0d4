-- Named queries of the feeds package (loaded once by feeds/repository.py). Values are always $n.

-- name: insert_version
-- Record one fetched version (accepted, rejected or superseded) and return its id.
INSERT INTO feed_versions (network_id, authority_id, sha256, source, status, fetched_at, validity_start,
                           validity_end, size_bytes, counts, issue_counts, summary, content_path, etag,
                           last_modified, fetch_started_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
RETURNING version_id;

-- name: insert_issues
-- Store the issues of a version (executemany).
INSERT INTO feed_issues (version_id, ordinal, code, severity, file, row_number, entity_id, field, value,
                         message, occurrences)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: publish_current
-- Make a version the one a network serves.
INSERT INTO feed_current (network_id, version_id, published_at)
VALUES ($1, $2, $3)
ON CONFLICT (network_id) DO UPDATE SET version_id = EXCLUDED.version_id, published_at = EXCLUDED.published_at;

-- name: lock_network
-- Serialise ingestions of one network (transaction-scoped advisory lock on its id).
SELECT pg_advisory_xact_lock(hashtext('feeds:' || $1));

-- name: upsert_fetch_state
-- Remember the outcome of the latest attempt for a network (health, conditional GET validators).
-- $9: the publisher still offers content that was rejected (a 304 or the same bytes after a
-- rejection): that attempt counts as failing too, and the rejection's reason is kept.
-- $10: when the attempt's download started; an attempt that started before the stored one
-- (slow, finishing after a newer one) leaves the state alone: the newer attempt's state stands.
INSERT INTO feed_fetch_state (network_id, authority_id, last_attempt_at, last_outcome, last_error, last_sha256,
                              etag, last_modified, consecutive_failures, last_fetch_started_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $4 = 'failed' OR $4 = 'rejected' OR $9::boolean THEN 1 ELSE 0 END,
        $10)
ON CONFLICT (network_id) DO UPDATE SET
    authority_id = EXCLUDED.authority_id,
    last_attempt_at = EXCLUDED.last_attempt_at,
    last_fetch_started_at = EXCLUDED.last_fetch_started_at,
    last_outcome = EXCLUDED.last_outcome,
    last_error = CASE WHEN $9::boolean THEN COALESCE(EXCLUDED.last_error, feed_fetch_state.last_error)
                      ELSE EXCLUDED.last_error END,
    last_sha256 = COALESCE(EXCLUDED.last_sha256, feed_fetch_state.last_sha256),
    -- validators belong to the content last received: a 200 without ETag must not leave the
    -- previous content's ETag behind (a later 304 would then vouch for the wrong content)
    etag = CASE WHEN EXCLUDED.last_outcome IN ('not_modified', 'failed')
                THEN COALESCE(EXCLUDED.etag, feed_fetch_state.etag) ELSE EXCLUDED.etag END,
    last_modified = CASE WHEN EXCLUDED.last_outcome IN ('not_modified', 'failed')
                         THEN COALESCE(EXCLUDED.last_modified, feed_fetch_state.last_modified)
                         ELSE EXCLUDED.last_modified END,
    consecutive_failures = CASE WHEN EXCLUDED.last_outcome IN ('failed', 'rejected') OR $9::boolean
                                THEN feed_fetch_state.consecutive_failures + 1 ELSE 0 END
WHERE feed_fetch_state.last_fetch_started_at <= EXCLUDED.last_fetch_started_at;

-- name: find_fetch_state
-- The latest attempt's state for one network.
SELECT network_id, authority_id, last_attempt_at, last_outcome, last_error, last_sha256, etag, last_modified,
       consecutive_failures
FROM feed_fetch_state WHERE network_id = $1;

-- name: list_current_feeds
-- The version each network serves, with what the planner needs to load it.
SELECT c.network_id, v.authority_id, v.version_id, v.sha256, v.content_path, v.fetch_started_at, v.fetched_at,
       c.published_at, v.validity_start, v.validity_end
FROM feed_current c JOIN feed_versions v USING (version_id)
ORDER BY c.network_id;

-- name: list_versions
-- Versions of every network (or of those given), newest first.
SELECT version_id, network_id, authority_id, sha256, source, status, fetched_at, validity_start, validity_end,
       size_bytes, counts, issue_counts, summary, content_path,
       EXISTS (SELECT 1 FROM feed_current c WHERE c.version_id = v.version_id) AS is_current
FROM feed_versions v
WHERE $1::text[] IS NULL OR network_id = ANY ($1::text[])
ORDER BY network_id, fetched_at DESC, version_id DESC
LIMIT $2;

-- name: find_version
-- One version by id.
SELECT version_id, network_id, authority_id, sha256, source, status, fetched_at, validity_start, validity_end,
       size_bytes, counts, issue_counts, summary, content_path,
       EXISTS (SELECT 1 FROM feed_current c WHERE c.version_id = v.version_id) AS is_current
FROM feed_versions v WHERE version_id = $1;

-- name: list_issues
-- The stored issues of a version, fatal first.
SELECT code, severity, file, row_number, entity_id, field, value, message, occurrences
FROM feed_issues WHERE version_id = $1
ORDER BY CASE severity WHEN 'fatal' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, ordinal
LIMIT $2;

-- name: list_fetch_states
-- Latest attempt state of every network.
SELECT network_id, authority_id, last_attempt_at, last_outcome, last_error, last_sha256, etag, last_modified,
       consecutive_failures
FROM feed_fetch_state ORDER BY network_id;
