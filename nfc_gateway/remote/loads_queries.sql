-- Named queries of nfc_gateway.remote.loads (``-- name: x`` sections). Every change of a job's
-- status is a conditional UPDATE (WHERE status = ...): a retry or a concurrent session changes
-- nothing twice.

-- name: find_tariff_codes
SELECT fare_product_id, tariff FROM nfc_tariff_codes WHERE fare_product_id = ANY($1::text[]);

-- name: find_provider_codes
SELECT authority_id, provider FROM nfc_provider_codes WHERE authority_id = ANY($1::text[]);

-- name: lock_code_tables
-- Codes are assigned rarely (a new product or authority): one assigner at a time, so two never
-- pick the same next code (readers are not blocked).
LOCK TABLE nfc_tariff_codes, nfc_provider_codes IN SHARE ROW EXCLUSIVE MODE;

-- name: assign_tariff_codes
-- The next free codes, in the order given, to the products that have none yet.
INSERT INTO nfc_tariff_codes (fare_product_id, tariff, created_at)
SELECT p.id, (SELECT coalesce(max(tariff), 0) FROM nfc_tariff_codes) + p.n, $2
FROM unnest($1::text[]) WITH ORDINALITY AS p(id, n)
ON CONFLICT (fare_product_id) DO NOTHING;

-- name: assign_provider_codes
INSERT INTO nfc_provider_codes (authority_id, provider, created_at)
SELECT a.id, (SELECT coalesce(max(provider), 0) FROM nfc_provider_codes) + a.n, $2
FROM unnest($1::text[]) WITH ORDINALITY AS a(id, n)
ON CONFLICT (authority_id) DO NOTHING;

-- name: insert_jobs
-- New pending jobs (arrays, one element per contract); a contract that has a job already is skipped.
INSERT INTO nfc_load_jobs (medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider,
                           valid_from, valid_until, trips, deadline, created_at)
SELECT j.medium_serial, j.contract_id, 'contract', 'pending', j.contract_id, j.tariff, $2, j.provider, j.valid_from,
       j.valid_until, j.trips, $1::timestamptz + make_interval(secs => $3::double precision), $1::timestamptz
FROM unnest($4::text[], $5::bigint[], $6::integer[], $7::integer[], $8::timestamptz[], $9::timestamptz[], $10::integer[])
     AS j(medium_serial, contract_id, tariff, provider, valid_from, valid_until, trips)
ORDER BY j.contract_id
ON CONFLICT DO NOTHING;

-- name: list_top_up_hosts
-- The contracts on these media a top-up may add to: contract loads confirmed, with a counter, oldest first.
SELECT job_id, medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider, valid_from,
       valid_until, trips, deadline, created_at, session_id, card_record, top_up_of, top_up_seq
FROM nfc_load_jobs
WHERE medium_serial = ANY($1::text[]) AND kind = 'contract' AND status = 'confirmed' AND trips IS NOT NULL
ORDER BY job_id;

-- name: lock_top_up_hosts
-- The host jobs, locked in id order (top-ups of one contract get their ranks one creator at a time).
SELECT job_id, status FROM nfc_load_jobs WHERE job_id = ANY($1::bigint[]) ORDER BY job_id FOR UPDATE;

-- name: find_jobs_of_contracts
SELECT contract_id FROM nfc_load_jobs WHERE contract_id = ANY($1::bigint[]);

-- name: last_top_up_ranks
-- The highest rank given so far to a top-up of each (medium, contract serial on the card).
SELECT medium_serial, top_up_of, max(top_up_seq) AS rank
FROM nfc_load_jobs
WHERE medium_serial = ANY($1::text[]) AND top_up_of = ANY($2::bigint[])
GROUP BY medium_serial, top_up_of;

-- name: insert_top_ups
-- New pending top-ups (arrays, one element per contract), each with its contract on the card and rank.
INSERT INTO nfc_load_jobs (medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider,
                           valid_from, valid_until, trips, deadline, created_at, top_up_of, top_up_seq)
SELECT j.medium_serial, j.contract_id, 'top_up', 'pending', j.contract_id, j.tariff, $2, j.provider, j.valid_from,
       j.valid_until, j.trips, $1::timestamptz + make_interval(secs => $3::double precision), $1::timestamptz,
       j.top_up_of, j.top_up_seq
FROM unnest($4::text[], $5::bigint[], $6::integer[], $7::integer[], $8::timestamptz[], $9::timestamptz[], $10::integer[],
            $11::bigint[], $12::integer[])
     AS j(medium_serial, contract_id, tariff, provider, valid_from, valid_until, trips, top_up_of, top_up_seq)
ORDER BY j.contract_id
ON CONFLICT DO NOTHING;

-- name: top_ups_to_contracts
-- Pending top-ups whose contract a read shows is not on the card: never applied (nowhere to be), so
-- each becomes a contract load of its own.
UPDATE nfc_load_jobs SET kind = 'contract', top_up_of = NULL, top_up_seq = NULL
WHERE job_id = ANY($1::bigint[]) AND kind = 'top_up' AND status = 'pending';

-- name: refresh_pending_jobs
-- Pending jobs follow their contract (arrays, one per contract): trips and validity as they are now
-- (a server-side validation may have used some), refunded when ticketing refunded it, cancelled
-- when it moved to another medium.
UPDATE nfc_load_jobs AS j
SET status = CASE c.status WHEN 'refunded' THEN 'refunded' WHEN 'transferred' THEN 'cancelled' ELSE 'pending' END,
    refunded_at = CASE c.status WHEN 'refunded' THEN $1::timestamptz END,
    trips = CASE WHEN c.status = 'active' THEN c.trips ELSE j.trips END,
    valid_until = CASE WHEN c.status = 'active' THEN c.valid_until ELSE j.valid_until END
FROM unnest($2::bigint[], $3::text[], $4::integer[], $5::timestamptz[]) AS c(contract_id, status, trips, valid_until)
WHERE j.contract_id = c.contract_id AND j.status = 'pending'
  AND (c.status <> 'active' OR j.trips IS DISTINCT FROM c.trips OR j.valid_until IS DISTINCT FROM c.valid_until);

-- name: list_open_jobs_of_medium
-- The jobs of a medium still owed to it (pending or written), oldest first.
SELECT job_id, medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider, valid_from,
       valid_until, trips, deadline, created_at, session_id, card_record, top_up_of, top_up_seq
FROM nfc_load_jobs WHERE medium_serial = $1 AND status IN ('pending', 'written') ORDER BY job_id;

-- name: offer_jobs
-- Hand pending jobs to a session to write ($1: ids, $2: now): in doubt until a read.
UPDATE nfc_load_jobs SET offered_at = $2 WHERE job_id = ANY($1::bigint[]) AND status = 'pending';

-- name: lock_jobs_of_medium
-- Every job of a medium, locked, oldest first (a read reconciles them all at once).
SELECT job_id, medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider, valid_from,
       valid_until, trips, deadline, created_at, session_id, card_record, top_up_of, top_up_seq
FROM nfc_load_jobs WHERE medium_serial = $1 ORDER BY job_id FOR UPDATE;

-- name: confirm_by_read
-- A read saw these jobs' contracts on the card.
UPDATE nfc_load_jobs SET status = 'confirmed', confirmed_by = 'read', confirmed_at = $2, offered_at = NULL
WHERE job_id = ANY($1::bigint[]) AND status IN ('pending', 'written')
RETURNING job_id;

-- name: reopen_lost
-- Written, but a later read does not show them: the card lost them (a record overwritten); owed again.
UPDATE nfc_load_jobs SET status = 'pending', offered_at = NULL, card_record = NULL
WHERE job_id = ANY($1::bigint[]) AND status = 'written';

-- name: resolve_absent
-- A read shows these pending jobs absent and they are not offered again: no longer in doubt.
UPDATE nfc_load_jobs SET offered_at = NULL WHERE job_id = ANY($1::bigint[]) AND status = 'pending';

-- name: lock_job
SELECT job_id, medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider, valid_from,
       valid_until, trips, deadline, created_at, session_id, card_record, top_up_of, top_up_seq
FROM nfc_load_jobs WHERE job_id = $1 FOR UPDATE;

-- name: set_written
UPDATE nfc_load_jobs SET status = 'written', session_id = $2, card_record = $3, written_at = $4, offered_at = NULL
WHERE job_id = $1 AND status = 'pending'
RETURNING job_id, medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider, valid_from,
          valid_until, trips, deadline, created_at, session_id, card_record, top_up_of, top_up_seq;

-- name: set_confirmed
UPDATE nfc_load_jobs SET status = 'confirmed', confirmed_by = $2, confirmed_at = $3, offered_at = NULL
WHERE job_id = $1 AND status IN ('pending', 'written')
RETURNING job_id, medium_serial, contract_id, kind, status, card_contract_serial, tariff, network_id, provider, valid_from,
          valid_until, trips, deadline, created_at, session_id, card_record, top_up_of, top_up_seq;

-- name: list_expired
-- Pending jobs past their deadline and not in doubt, oldest deadline first.
SELECT job_id FROM nfc_load_jobs
WHERE status = 'pending' AND deadline <= $1 AND offered_at IS NULL
ORDER BY deadline, job_id LIMIT $2;

-- name: claim_expired
-- One expired job, locked for the refund (another pass holding it: skipped).
SELECT job_id, contract_id FROM nfc_load_jobs
WHERE job_id = $1 AND status = 'pending' AND deadline <= $2 AND offered_at IS NULL
FOR UPDATE SKIP LOCKED;

-- name: set_refunded
UPDATE nfc_load_jobs SET status = 'refunded', refunded_at = $2 WHERE job_id = $1 AND status = 'pending';

-- name: set_cancelled
UPDATE nfc_load_jobs SET status = 'cancelled' WHERE job_id = $1 AND status = 'pending';

-- name: confirm_by_use
-- Validated (server side) before its deadline: evidently delivered, not refundable.
UPDATE nfc_load_jobs SET status = 'confirmed', confirmed_by = 'use', confirmed_at = $2
WHERE job_id = $1 AND status = 'pending';

-- name: upsert_mirror
-- The server's copy of a card, version + 1 when it changed.
INSERT INTO nfc_card_mirror (medium_serial, image, version, updated_at) VALUES ($1, $2, 1, $3)
ON CONFLICT (medium_serial) DO UPDATE SET image = EXCLUDED.image, version = nfc_card_mirror.version + 1,
                                          updated_at = EXCLUDED.updated_at
WHERE nfc_card_mirror.image IS DISTINCT FROM EXCLUDED.image;

-- name: get_mirror
SELECT image, version, updated_at FROM nfc_card_mirror WHERE medium_serial = $1;
