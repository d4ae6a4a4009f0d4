-- The named queries of nfc_gateway.devices (loaded once by nfc_gateway/devices/repository.py).
-- Values always go in as $n parameters.

-- name: insert_device
-- Register a device bound to the key just created for it.
INSERT INTO nfc_devices (authority_id, kind, label, key_id, offline_credit_limit_minor, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING device_id;

-- name: lock_device
-- A device row, locked until the end of the caller's transaction (contacts, uploads, revocation).
SELECT device_id, authority_id, kind, label, key_id, offline_credit_limit_minor, created_at, revoked_at,
       last_contact_at, last_heartbeat_at, reported_last_sequence, denylist_version, denylist_acked_at
FROM nfc_devices WHERE device_id = $1
FOR UPDATE;

-- name: insert_offline_window
-- A silence longer than the contact gap just ended: from the last contact before it to now.
INSERT INTO nfc_device_offline_windows (device_id, offline_from, online_again_at)
VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING;

-- name: record_contact
-- Any contact of the device: heartbeat ($3: whether it is one, $4: the sequence it reported),
-- deny-list acknowledgement ($5: the version, kept only when it is higher), upload.
UPDATE nfc_devices
SET last_contact_at = greatest(coalesce(last_contact_at, $2), $2),
    last_heartbeat_at = CASE WHEN $3 THEN greatest(coalesce(last_heartbeat_at, $2), $2) ELSE last_heartbeat_at END,
    reported_last_sequence = CASE WHEN $4::bigint IS NULL THEN reported_last_sequence
                                  ELSE greatest(coalesce(reported_last_sequence, 0), $4::bigint) END,
    denylist_acked_at = CASE WHEN $5::bigint IS NOT NULL AND $5::bigint > denylist_version THEN $2 ELSE denylist_acked_at END,
    denylist_version = greatest(denylist_version, coalesce($5::bigint, 0))
WHERE device_id = $1;

-- name: revoke_device
-- Revoke a device (once: a second revocation keeps the first time).
UPDATE nfc_devices SET revoked_at = coalesce(revoked_at, $2) WHERE device_id = $1 RETURNING key_id;

-- name: list_device_status
-- Devices with what their status needs: the offline sales received, refused and still being made,
-- the highest sequence received and the gaps below it (sequences start at 1), the first 20 of them.
-- $1: only this authority; $2: only this kind; $3: only this device (each NULL: any).
SELECT d.device_id, d.authority_id, d.kind, d.label, d.key_id, d.offline_credit_limit_minor, d.created_at,
       d.revoked_at, d.last_contact_at, d.last_heartbeat_at, d.reported_last_sequence, d.denylist_version,
       d.denylist_acked_at,
       coalesce(s.sold, 0) AS sold, coalesce(s.refused, 0) AS refused, coalesce(s.in_progress, 0) AS in_progress,
       coalesce(s.highest_sequence, 0) AS highest_sequence, coalesce(s.missing, 0) AS missing,
       coalesce(s.gap_starts, '{}') AS gap_starts, coalesce(s.gap_ends, '{}') AS gap_ends
FROM nfc_devices d
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.status = 'sold') AS sold,
           count(*) FILTER (WHERE x.status = 'refused') AS refused,
           count(*) FILTER (WHERE x.status = 'accepted') AS in_progress,
           max(x.sequence) AS highest_sequence,
           sum(x.sequence - x.previous - 1) FILTER (WHERE x.sequence - x.previous > 1)::bigint AS missing,
           (array_agg(x.previous + 1 ORDER BY x.sequence) FILTER (WHERE x.sequence - x.previous > 1))[1:20] AS gap_starts,
           (array_agg(x.sequence - 1 ORDER BY x.sequence) FILTER (WHERE x.sequence - x.previous > 1))[1:20] AS gap_ends
    FROM (SELECT o.status, o.sequence, coalesce(lag(o.sequence) OVER (ORDER BY o.sequence), 0) AS previous
          FROM nfc_offline_sales o WHERE o.device_id = d.device_id) x
) s ON true
WHERE ($1::text IS NULL OR d.authority_id = $1::text)
  AND ($2::text IS NULL OR d.kind = $2::text)
  AND ($3::bigint IS NULL OR d.device_id = $3::bigint)
ORDER BY d.device_id;

-- name: list_offline_sales
-- The sales of a device already received among these sequences.
SELECT sequence, request_hash, sold_at, amount_minor, status, order_id, refusal_code, refusal_detail
FROM nfc_offline_sales WHERE device_id = $1 AND sequence = ANY($2::bigint[]);

-- name: list_offline_windows
-- The offline windows of a device that may hold a sale sold from $2 to $3.
SELECT offline_from, online_again_at FROM nfc_device_offline_windows
WHERE device_id = $1 AND online_again_at >= $2 AND offline_from < $3
ORDER BY offline_from;

-- name: list_window_credit
-- The credit used in each of these windows: the sales not refused that were counted in it.
SELECT window_from, sum(amount_minor)::bigint AS used_minor FROM nfc_offline_sales
WHERE device_id = $1 AND window_from = ANY($2::timestamptz[]) AND status <> 'refused'
GROUP BY window_from;

-- name: insert_offline_sales
-- The new sales of an upload, with their first decision (accepted or refused), in one statement.
INSERT INTO nfc_offline_sales (device_id, sequence, request_hash, sale, sold_at, amount_minor, payment_method,
                               window_from, status, refusal_code, refusal_detail, received_at, decided_at)
SELECT $1, r.sequence, r.request_hash, r.sale, r.sold_at, r.amount_minor, r.payment_method, r.window_from, r.status,
       r.refusal_code, r.refusal_detail, $2, CASE WHEN r.status = 'refused' THEN $2::timestamptz END
FROM jsonb_to_recordset($3::jsonb) AS r(sequence bigint, request_hash text, sale jsonb, sold_at timestamptz,
                                        amount_minor bigint, payment_method text, window_from timestamptz,
                                        status text, refusal_code text, refusal_detail text)
ON CONFLICT (device_id, sequence) DO NOTHING;

-- name: list_accepted_sales
-- The sales of a device whose order is still to be made, among these sequences.
SELECT sequence, sale FROM nfc_offline_sales
WHERE device_id = $1 AND sequence = ANY($2::bigint[]) AND status = 'accepted'
ORDER BY sequence;

-- name: mark_sale_sold
-- The order of an accepted sale was made.
UPDATE nfc_offline_sales SET status = 'sold', order_id = $3, decided_at = $4
WHERE device_id = $1 AND sequence = $2 AND status = 'accepted';

-- name: mark_sale_refused
-- Ticketing refused the order of an accepted sale: its credit is released.
UPDATE nfc_offline_sales SET status = 'refused', refusal_code = $3, refusal_detail = $4, decided_at = $5
WHERE device_id = $1 AND sequence = $2 AND status = 'accepted';

-- name: insert_audit
-- An audit row of the foundation's audit_log (dotted action, the key that caused it, device:<id>).
INSERT INTO audit_log (action, actor_key_id, authority_id, subject, data, created_at) VALUES ($1, $2, $3, $4, $5, $6);
