-- Every SQL statement of the ticketing package. Values always go in as $n parameters.

-- name: find_order_by_key
-- The order a sales point created with this idempotency key.
SELECT order_id, request_hash, status FROM ticketing_orders
WHERE sales_point_key_id = $1 AND idempotency_key = $2;

-- name: lock_order
-- The order row, locked: serialises the finalisation of concurrent retries of one order.
SELECT order_id, sales_point_key_id, selling_authority_id, channel, status, total_minor, currency,
       refunded_minor, request, created_at, failure_code
FROM ticketing_orders WHERE order_id = $1 FOR UPDATE;

-- name: get_order
-- One order.
SELECT order_id, sales_point_key_id, selling_authority_id, channel, status, total_minor, currency,
       refunded_minor, request, created_at
FROM ticketing_orders WHERE order_id = $1;

-- name: set_order_status
-- Move an order to a new status.
UPDATE ticketing_orders SET status = $2, updated_at = $3, refunded_minor = $4 WHERE order_id = $1;

-- name: insert_payment
-- A charge or refund the provider confirmed.
INSERT INTO ticketing_payments (order_id, kind, provider, provider_reference, amount_minor, currency, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING payment_id;

-- name: list_payments
-- The payments of an order.
SELECT kind, provider, provider_reference, amount_minor, currency, created_at
FROM ticketing_payments WHERE order_id = $1 ORDER BY payment_id;

-- name: insert_audit
-- One audit row with a dotted action name.
INSERT INTO audit_log (action, actor_key_id, authority_id, subject, data, created_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: insert_account
-- A holder account with minimal personal data and its random account number.
INSERT INTO ticketing_accounts (display_name, email, created_at, account_number) VALUES ($1, $2, $3, $4) RETURNING account_id;

-- name: insert_medium
-- A new card or wallet; $7 is the sha256 of an anonymous medium's printed secret (else NULL).
INSERT INTO ticketing_media (serial, kind, fare_media_id, account_id, issuing_authority_id, created_at, secret_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING medium_id;

-- name: get_medium_proof
-- What proves the holder of a medium: the hash of its printed secret, its holder's account number.
SELECT m.secret_hash, a.account_number
FROM ticketing_media m LEFT JOIN ticketing_accounts a ON a.account_id = m.account_id
WHERE m.medium_id = $1;

-- name: insert_entitlement
-- A medium's entitlement to a rider category: who checked the proof, until when (no document).
INSERT INTO ticketing_entitlements (medium_id, rider_category_id, verified_by_authority_id, verified_by_key_id,
                                    valid_until, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING entitlement_id;

-- name: list_entitlements_of_medium
-- The entitlements of a medium still valid at $2, latest end first.
SELECT rider_category_id, valid_until, verified_by_authority_id, created_at
FROM ticketing_entitlements WHERE medium_id = $1 AND valid_until > $2
ORDER BY rider_category_id, valid_until DESC;

-- name: list_valid_entitlements_by_serial
-- The (serial, rider category) pairs the media of an order are entitled to at $2.
SELECT DISTINCT m.serial, e.rider_category_id
FROM ticketing_entitlements e JOIN ticketing_media m ON m.medium_id = e.medium_id
WHERE m.serial = ANY($1::text[]) AND e.valid_until > $2;

-- name: copy_entitlements
-- Reconstitution: the old medium's entitlements still valid at $3 move to the new one ($2).
INSERT INTO ticketing_entitlements (medium_id, rider_category_id, verified_by_authority_id, verified_by_key_id,
                                    valid_until, created_at)
SELECT $2, rider_category_id, verified_by_authority_id, verified_by_key_id, valid_until, $3
FROM ticketing_entitlements WHERE medium_id = $1 AND valid_until > $3;

-- name: get_medium
-- One medium by serial.
SELECT m.medium_id, m.serial, m.kind, m.fare_media_id, m.account_id, m.issuing_authority_id, m.status,
       m.replaced_by, r.serial AS replaced_by_serial, m.created_at
FROM ticketing_media m LEFT JOIN ticketing_media r ON r.medium_id = m.replaced_by
WHERE m.serial = $1;

-- name: lock_medium
-- One medium by serial, locked (declaration, reconstitution: the parent of its contracts).
SELECT medium_id, serial, kind, fare_media_id, account_id, issuing_authority_id, status, replaced_by, created_at
FROM ticketing_media WHERE serial = $1 FOR UPDATE;

-- name: list_media_by_serial
-- The media of a validation batch (no lock: the contracts are what is locked).
SELECT medium_id, serial, status, replaced_by FROM ticketing_media WHERE serial = ANY($1::text[]);

-- name: set_medium_status
-- Declare a medium lost or stolen.
UPDATE ticketing_media SET status = $2 WHERE medium_id = $1;

-- name: set_medium_replaced_by
-- Record, once, the card that replaced this one.
UPDATE ticketing_media SET replaced_by = $2 WHERE medium_id = $1 AND replaced_by IS NULL;

-- name: lock_denylist_writes
-- Serialise deny-list writers until commit, so versions become visible in increasing order: an
-- identity value taken by a transaction that commits after a later one would otherwise be skipped
-- for ever by validators asking for the entries after the version they hold.
SELECT pg_advisory_xact_lock(hashtext('ticketing_denylist'));

-- name: insert_denylist
-- Put a medium on the deny list; the version orders the incremental updates.
INSERT INTO ticketing_denylist (medium_id, serial, reason, created_at) VALUES ($1, $2, $3, $4) RETURNING version;

-- name: list_denylist_since
-- Deny-list entries after a version, oldest first.
SELECT version, serial, reason, created_at FROM ticketing_denylist WHERE version > $1 ORDER BY version LIMIT $2;

-- name: get_denylist_version
-- The latest deny-list version (0 when empty).
SELECT coalesce(max(version), 0) AS version FROM ticketing_denylist;

-- name: insert_contracts
-- Contracts (arrays, one element per contract).
INSERT INTO ticketing_contracts (medium_id, order_id, line_no, fare_product_id, rider_category_id, network_ids,
                                 area_ids, valid_from, valid_until, duration_s, trips_total, remaining_trips,
                                 transfer_window_s, first_used_at, last_counted_at, last_route_id,
                                 reconstituted_from, created_at)
SELECT c.medium_id, c.order_id, c.line_no, c.fare_product_id, c.rider_category_id,
       string_to_array(c.network_ids, ','), coalesce(string_to_array(nullif(c.area_ids, ''), ','), '{}'),
       c.valid_from, c.valid_until, c.duration_s, c.trips_total, c.remaining_trips, c.transfer_window_s,
       c.first_used_at, c.last_counted_at, c.last_route_id, c.reconstituted_from, $1
FROM unnest($2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::timestamptz[], $10::timestamptz[], $11::integer[], $12::integer[], $13::integer[], $14::integer[],
            $15::timestamptz[], $16::timestamptz[], $17::text[], $18::bigint[])
     AS c(medium_id, order_id, line_no, fare_product_id, rider_category_id, network_ids, area_ids, valid_from,
          valid_until, duration_s, trips_total, remaining_trips, transfer_window_s, first_used_at,
          last_counted_at, last_route_id, reconstituted_from)
RETURNING contract_id;

-- name: list_contracts_of_medium
-- Every contract of one medium (for display).
SELECT contract_id, medium_id, order_id, line_no, fare_product_id, rider_category_id, network_ids, area_ids,
       valid_from, valid_until, duration_s, trips_total, remaining_trips, transfer_window_s, status,
       first_used_at, last_counted_at, last_route_id, reconstituted_from
FROM ticketing_contracts WHERE medium_id = $1 ORDER BY contract_id;

-- name: list_loadable_contracts_of_medium
-- The contracts of paid orders on one card or wallet (never paper), any status, id order: what the
-- NFC gateway owes that medium (media.list_loadable_contracts).
SELECT c.contract_id, m.serial AS medium_serial, m.kind AS medium_kind, c.order_id, o.status AS order_status,
       o.selling_authority_id, c.fare_product_id, c.network_ids, coalesce(l.owning_authority_ids, '{}') AS owning_authority_ids,
       c.valid_from, c.valid_until, c.duration_s, c.trips_total, c.remaining_trips, c.status, c.first_used_at, c.created_at
FROM ticketing_media m
JOIN ticketing_contracts c USING (medium_id)
JOIN ticketing_orders o ON o.order_id = c.order_id
LEFT JOIN ticketing_order_lines l ON l.order_id = c.order_id AND l.line_no = c.line_no
WHERE m.serial = $1 AND m.kind IN ('smartcard', 'wallet') AND o.status IN ('paid', 'partially_refunded', 'refunded')
ORDER BY c.contract_id;

-- name: list_loadable_contracts_by_id
-- The same for contracts named by id ($1, an array), any status.
SELECT c.contract_id, m.serial AS medium_serial, m.kind AS medium_kind, c.order_id, o.status AS order_status,
       o.selling_authority_id, c.fare_product_id, c.network_ids, coalesce(l.owning_authority_ids, '{}') AS owning_authority_ids,
       c.valid_from, c.valid_until, c.duration_s, c.trips_total, c.remaining_trips, c.status, c.first_used_at, c.created_at
FROM ticketing_contracts c
JOIN ticketing_media m USING (medium_id)
JOIN ticketing_orders o ON o.order_id = c.order_id
LEFT JOIN ticketing_order_lines l ON l.order_id = c.order_id AND l.line_no = c.line_no
WHERE c.contract_id = ANY($1::bigint[]) AND m.kind IN ('smartcard', 'wallet')
  AND o.status IN ('paid', 'partially_refunded', 'refunded')
ORDER BY c.contract_id;

-- name: list_new_loadable_contracts
-- Active contracts of paid orders on cards and wallets with an id above $1, created at $2 or later,
-- id order, $3 at most (the primary key drives the scan: pages of new sales).
SELECT c.contract_id, m.serial AS medium_serial, m.kind AS medium_kind, c.order_id, o.status AS order_status,
       o.selling_authority_id, c.fare_product_id, c.network_ids, coalesce(l.owning_authority_ids, '{}') AS owning_authority_ids,
       c.valid_from, c.valid_until, c.duration_s, c.trips_total, c.remaining_trips, c.status, c.first_used_at, c.created_at
FROM ticketing_contracts c
JOIN ticketing_media m USING (medium_id)
JOIN ticketing_orders o ON o.order_id = c.order_id
LEFT JOIN ticketing_order_lines l ON l.order_id = c.order_id AND l.line_no = c.line_no
WHERE c.contract_id > $1 AND c.created_at >= $2 AND c.status = 'active' AND m.kind IN ('smartcard', 'wallet')
  AND o.status IN ('paid', 'partially_refunded')
ORDER BY c.contract_id
LIMIT $3;

-- name: lock_active_contracts_of_medium
-- The active contracts of one medium, locked (reconstitution).
SELECT contract_id, medium_id, order_id, line_no, fare_product_id, rider_category_id, network_ids, area_ids,
       valid_from, valid_until, duration_s, trips_total, remaining_trips, transfer_window_s, status,
       first_used_at, last_counted_at, last_route_id, reconstituted_from
FROM ticketing_contracts WHERE medium_id = $1 AND status = 'active' ORDER BY contract_id FOR UPDATE;

-- name: lock_contracts_of_order
-- The contracts an order created (and their copies by reconstitution), locked (refund).
SELECT contract_id, medium_id, line_no, trips_total, remaining_trips, first_used_at, status
FROM ticketing_contracts WHERE order_id = $1 ORDER BY contract_id FOR UPDATE;

-- name: lock_active_contracts_of_media
-- The active contracts of the media of a validation batch, locked in one statement, id order.
SELECT contract_id, medium_id, fare_product_id, network_ids, area_ids, valid_from, valid_until, duration_s,
       trips_total, remaining_trips, transfer_window_s, first_used_at, last_counted_at, last_route_id
FROM ticketing_contracts WHERE medium_id = ANY($1::bigint[]) AND status = 'active'
ORDER BY contract_id FOR UPDATE;

-- name: read_active_contracts_of_media
-- The same rows without the lock: only for the race demonstration (debug flag).
SELECT contract_id, medium_id, fare_product_id, network_ids, area_ids, valid_from, valid_until, duration_s,
       trips_total, remaining_trips, transfer_window_s, first_used_at, last_counted_at, last_route_id
FROM ticketing_contracts WHERE medium_id = ANY($1::bigint[]) AND status = 'active'
ORDER BY contract_id;

-- name: update_contract_usage
-- Write back the usage of contracts after a batch of validations (arrays, one per contract).
UPDATE ticketing_contracts AS c
SET remaining_trips = u.remaining_trips, valid_until = u.valid_until, first_used_at = u.first_used_at,
    last_counted_at = u.last_counted_at, last_route_id = u.last_route_id
FROM unnest($1::bigint[], $2::integer[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::text[])
     AS u(contract_id, remaining_trips, valid_until, first_used_at, last_counted_at, last_route_id)
WHERE c.contract_id = u.contract_id;

-- name: set_contracts_status
-- Close contracts (refunded, or transferred by reconstitution).
UPDATE ticketing_contracts SET status = $2 WHERE contract_id = ANY($1::bigint[]);

-- name: claim_validations
-- Claim (device, event id) pairs; returns the event ids that are new (the others were seen before).
-- An event that occurred before $11 (now less the identifier retention; NULL: none) is stored
-- purged at once: no serial, stamped purged_at (record_decisions then stores no contract link).
INSERT INTO ticketing_validations (device_key_id, event_id, authority_id, medium_serial, occurred_at, stop_id,
                                   route_id, direction_id, network_id, accepted, reason, received_at, purged_at)
SELECT $1, e.event_id, $2, CASE WHEN e.occurred_at < $11::timestamptz THEN NULL ELSE e.medium_serial END,
       e.occurred_at, e.stop_id, e.route_id, e.direction_id, e.network_id,
       false, 'pending', $3, CASE WHEN e.occurred_at < $11::timestamptz THEN $3::timestamptz END
FROM unnest($4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::smallint[], $10::text[])
     AS e(event_id, medium_serial, occurred_at, stop_id, route_id, direction_id, network_id)
ON CONFLICT (device_key_id, event_id) DO NOTHING
RETURNING event_id;

-- name: list_validations
-- Decisions already recorded for some events of a device.
SELECT event_id, accepted, reason, contract_id, remaining_trips
FROM ticketing_validations WHERE device_key_id = $1 AND event_id = ANY($2::text[]);

-- name: record_decisions
-- Write the decisions of newly claimed events (arrays, one per event); an event stored purged
-- (older than the retention) keeps no contract link.
UPDATE ticketing_validations AS v
SET accepted = d.accepted, reason = d.reason,
    contract_id = CASE WHEN v.purged_at IS NULL THEN d.contract_id END,
    remaining_trips = CASE WHEN v.purged_at IS NULL THEN d.remaining_trips END
FROM unnest($2::text[], $3::boolean[], $4::text[], $5::bigint[], $6::integer[])
     AS d(event_id, accepted, reason, contract_id, remaining_trips)
WHERE v.device_key_id = $1 AND v.event_id = d.event_id;

-- name: insert_ledger
-- Ledger rows (arrays, one per row). The table refuses updates and deletes.
INSERT INTO ticketing_ledger (order_id, line_no, kind, collector_authority_id, beneficiary_authority_id, network_id,
                              amount_minor, currency, booked_at)
SELECT $1, l.line_no, l.kind, l.collector, l.beneficiary, l.network_id, l.amount_minor, $2, $3
FROM unnest($4::integer[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
     AS l(line_no, kind, collector, beneficiary, network_id, amount_minor);

-- name: sum_ledger_by_pair
-- Ledger totals per (collector, beneficiary, kind, currency) over a period [from, to).
SELECT collector_authority_id, beneficiary_authority_id, kind, currency, sum(amount_minor)::bigint AS amount_minor
FROM ticketing_ledger WHERE booked_at >= $1 AND booked_at < $2
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- name: sum_payments
-- Money taken over a period [from, to): charges minus refunds, per currency.
SELECT currency, sum(CASE WHEN kind = 'charge' THEN amount_minor ELSE -amount_minor END)::bigint AS amount_minor
FROM ticketing_payments WHERE created_at >= $1 AND created_at < $2
GROUP BY currency ORDER BY currency;

-- name: sum_payments_of_seller
-- Money taken over a period [from, to) for the orders of one selling authority ($3), per currency.
SELECT p.currency, sum(CASE WHEN p.kind = 'charge' THEN p.amount_minor ELSE -p.amount_minor END)::bigint AS amount_minor
FROM ticketing_payments p JOIN ticketing_orders o ON o.order_id = p.order_id
WHERE p.created_at >= $1 AND p.created_at < $2 AND o.selling_authority_id = $3
GROUP BY p.currency ORDER BY p.currency;

-- name: insert_order_audited
-- Claim an idempotency key for a new pending order and write its audit row, in one statement;
-- returns the order id and the seller's commission rate, nothing when the key is taken. The rate
-- is stored in the order's request (``commission_permille``): a resumed order books with it.
WITH claimed AS (
    INSERT INTO ticketing_orders (sales_point_key_id, idempotency_key, request_hash, selling_authority_id, channel,
                                  status, total_minor, currency, request, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7,
            $8::jsonb || jsonb_build_object('commission_permille',
                (SELECT r.commission_permille FROM ticketing_commission_rates r
                 WHERE r.selling_authority_id IN ($4, '*')
                 ORDER BY (r.selling_authority_id = '*') LIMIT 1)),
            $9, $9)
    ON CONFLICT (sales_point_key_id, idempotency_key) DO NOTHING
    RETURNING order_id, (request ->> 'commission_permille')::integer AS commission_permille
), audited AS (
    INSERT INTO audit_log (action, actor_key_id, authority_id, subject, data, created_at)
    SELECT 'ticketing.order.placed', $1, $4, 'order:' || order_id, $10, $9 FROM claimed
)
SELECT order_id, commission_permille FROM claimed;

-- name: get_commission_permille
-- The commission rate of a selling authority (its own row, else the '*' default).
SELECT r.commission_permille FROM ticketing_commission_rates r
WHERE r.selling_authority_id IN ($1, '*')
ORDER BY (r.selling_authority_id = '*') LIMIT 1;

-- name: decline_pending_order
-- A pending order is declined, with its audit row, in one statement; returns no row when the
-- order is no longer pending (a concurrent retry finished it first).
WITH moved AS (
    UPDATE ticketing_orders SET status = 'declined', updated_at = $2
    WHERE order_id = $1 AND status = 'pending'
    RETURNING order_id, selling_authority_id
), audited AS (
    INSERT INTO audit_log (action, actor_key_id, authority_id, subject, data, created_at)
    SELECT 'ticketing.order.declined', $3, selling_authority_id, 'order:' || order_id, $4, $2 FROM moved
)
SELECT order_id FROM moved;

-- name: fail_pending_order
-- A pending order that will never be fulfilled (its card or wallet is no longer active, or its
-- client abandoned it) is closed as failed, with its reason and what was refunded; returns no row
-- when the order is no longer pending.
UPDATE ticketing_orders
SET status = 'failed', updated_at = $2, refunded_minor = $3, failure_code = $4, failure_detail = $5
WHERE order_id = $1 AND status = 'pending'
RETURNING order_id;

-- name: add_refunded_minor
-- Record a refund on an order (its status unchanged).
UPDATE ticketing_orders SET updated_at = $2, refunded_minor = refunded_minor + $3 WHERE order_id = $1;

-- name: list_abandoned_orders
-- Pending orders claimed before a time (their client never came back), oldest first.
SELECT order_id FROM ticketing_orders WHERE status = 'pending' AND created_at < $1 ORDER BY created_at, order_id;

-- name: get_order_view
-- One order with its lines (and their contracts and media), payments and ledger rows, as JSON.
SELECT o.order_id, o.status, o.selling_authority_id, o.sales_point_key_id, o.channel, o.total_minor, o.currency,
       o.refunded_minor, o.created_at,
       CASE WHEN o.failure_code IS NOT NULL
            THEN jsonb_build_object('code', o.failure_code, 'detail', o.failure_detail) END AS failure,
       coalesce((
           SELECT json_agg(json_build_object(
               'line_no', l.line_no, 'fare_product_id', l.fare_product_id, 'rider_category_id', l.rider_category_id,
               'fare_media_id', l.fare_media_id, 'quantity', l.quantity, 'unit_price_minor', l.unit_price_minor,
               'amount_minor', l.amount_minor, 'currency', l.currency, 'network_ids', l.network_ids,
               'owning_authority_ids', l.owning_authority_ids,
               'contract_ids', coalesce((SELECT json_agg(c.contract_id ORDER BY c.contract_id) FROM ticketing_contracts c
                                         WHERE c.order_id = o.order_id AND c.line_no = l.line_no
                                           AND c.reconstituted_from IS NULL), '[]'::json),
               'media', coalesce((SELECT json_agg(DISTINCT m.serial) FROM ticketing_contracts c
                                  JOIN ticketing_media m USING (medium_id)
                                  WHERE c.order_id = o.order_id AND c.line_no = l.line_no
                                    AND c.reconstituted_from IS NULL), '[]'::json)
           ) ORDER BY l.line_no)
           FROM ticketing_order_lines l WHERE l.order_id = o.order_id), '[]'::json) AS lines,
       coalesce((
           SELECT json_agg(json_build_object(
               'kind', p.kind, 'provider', p.provider, 'provider_reference', p.provider_reference,
               'amount_minor', p.amount_minor, 'currency', p.currency, 'created_at', p.created_at) ORDER BY p.payment_id)
           FROM ticketing_payments p WHERE p.order_id = o.order_id), '[]'::json) AS payments,
       coalesce((
           SELECT json_agg(json_build_object(
               'line_no', g.line_no, 'kind', g.kind, 'collector_authority_id', g.collector_authority_id,
               'beneficiary_authority_id', g.beneficiary_authority_id, 'network_id', g.network_id,
               'amount_minor', g.amount_minor) ORDER BY g.entry_id)
           FROM ticketing_ledger g WHERE g.order_id = o.order_id), '[]'::json) AS ledger
FROM ticketing_orders o WHERE o.order_id = $1;

-- name: fulfil_paid_order
-- The end of a sale, in one statement (so one atomic transaction and one round trip): lock the
-- order row and go on only while it is still pending (a concurrent retry waits on the lock, then
-- finds it paid and writes nothing); the paper tickets and the contracts (one element per
-- contract: its medium's serial, a new paper ticket's or an existing card's); the order lines and
-- the charge (when there is one); the ledger rows (one element per row); the status and the audit
-- row. Everything with many rows comes in one jsonb argument, $10: {"paper": [{serial,
-- fare_media_id}], "contracts": [...], "lines": [...], "ledger": [...], "media": [serial]}, read
-- with jsonb_to_recordset. Contracts are never loaded on a card or wallet that is not active: the
-- media the lines name ($10 -> 'media') are share-locked after the order row (a declaration or reconstitution waits for
-- this sale to commit, or this sale sees its outcome) and, when one of them is lost, stolen or
-- replaced, nothing is written. Returns paid = 1 when this statement paid the order, 0 when it did
-- not, dead_media: the media that stopped it (null when none), and, when it paid, the order as
-- ``get_order_view`` shows it, built from the rows this statement wrote (a statement does not see
-- its own writes in its tables, only through RETURNING): the sale needs no read after it.
WITH locked AS (
    SELECT order_id FROM ticketing_orders WHERE order_id = $1 AND status = 'pending' FOR UPDATE
), media AS (
    SELECT m.serial, m.status, m.replaced_by FROM ticketing_media m
    WHERE m.serial = ANY(ARRAY(SELECT jsonb_array_elements_text($10::jsonb -> 'media'))) AND EXISTS (SELECT 1 FROM locked)
    ORDER BY m.medium_id FOR SHARE
), dead AS (
    SELECT serial, status, replaced_by IS NOT NULL AS replaced FROM media
    WHERE status <> 'active' OR replaced_by IS NOT NULL
), ready AS (
    SELECT order_id FROM locked WHERE NOT EXISTS (SELECT 1 FROM dead)
), paper AS (
    INSERT INTO ticketing_media (serial, kind, fare_media_id, issuing_authority_id, created_at)
    SELECT p.serial, 'paper', p.fare_media_id, $8, $2
    FROM jsonb_to_recordset($10::jsonb -> 'paper') AS p(serial text, fare_media_id text)
    WHERE EXISTS (SELECT 1 FROM ready)
    RETURNING medium_id, serial
), contracts AS (
    INSERT INTO ticketing_contracts (medium_id, order_id, line_no, fare_product_id, rider_category_id, network_ids,
                                     area_ids, valid_from, duration_s, trips_total, remaining_trips, transfer_window_s,
                                     created_at)
    SELECT coalesce(p.medium_id, m.medium_id), $1, c.line_no, c.fare_product_id, c.rider_category_id,
           string_to_array(c.network_ids, ','), coalesce(string_to_array(nullif(c.area_ids, ''), ','), '{}'),
           $2, c.duration_s, c.trips, c.trips, c.transfer_window_s, $2
    FROM jsonb_to_recordset($10::jsonb -> 'contracts')
         AS c(serial text, line_no integer, fare_product_id text, rider_category_id text, network_ids text,
              area_ids text, duration_s integer, trips integer, transfer_window_s integer)
    LEFT JOIN paper p ON p.serial = c.serial
    LEFT JOIN ticketing_media m ON m.serial = c.serial
    WHERE EXISTS (SELECT 1 FROM ready)
    RETURNING contract_id, line_no, medium_id
), lines AS (
    INSERT INTO ticketing_order_lines (order_id, line_no, fare_product_id, rider_category_id, fare_media_id, quantity,
                                       unit_price_minor, amount_minor, currency, network_ids, owning_authority_ids,
                                       medium_id)
    SELECT $1, l.line_no, l.fare_product_id, l.rider_category_id, l.fare_media_id, l.quantity, l.unit_price_minor,
           l.amount_minor, $7, string_to_array(l.network_ids, ','), string_to_array(l.owning_authority_ids, ','),
           (SELECT m.medium_id FROM ticketing_media m WHERE m.serial = l.medium_serial)
    FROM jsonb_to_recordset($10::jsonb -> 'lines')
         AS l(line_no integer, fare_product_id text, rider_category_id text, fare_media_id text, quantity integer,
              unit_price_minor bigint, amount_minor bigint, network_ids text, owning_authority_ids text,
              medium_serial text)
    WHERE EXISTS (SELECT 1 FROM ready)
    RETURNING line_no, fare_product_id, rider_category_id, fare_media_id, quantity, unit_price_minor, amount_minor,
              currency, network_ids, owning_authority_ids
), payment AS (
    INSERT INTO ticketing_payments (order_id, kind, provider, provider_reference, amount_minor, currency, created_at)
    SELECT $1, 'charge', $4, $5, $6, $7, $2 WHERE $5::text IS NOT NULL AND EXISTS (SELECT 1 FROM ready)
    RETURNING payment_id, kind, provider, provider_reference, amount_minor, currency, created_at
), ledger AS (
    INSERT INTO ticketing_ledger (order_id, line_no, kind, collector_authority_id, beneficiary_authority_id, network_id,
                                  amount_minor, currency, booked_at)
    SELECT $1, g.line_no, g.kind, g.collector, g.beneficiary, g.network_id, g.amount_minor, $7, $2
    FROM jsonb_to_recordset($10::jsonb -> 'ledger')
         AS g(line_no integer, kind text, collector text, beneficiary text, network_id text, amount_minor bigint)
    WHERE EXISTS (SELECT 1 FROM ready)
    RETURNING entry_id, line_no, kind, collector_authority_id, beneficiary_authority_id, network_id, amount_minor
), moved AS (
    UPDATE ticketing_orders o SET status = 'paid', updated_at = $2 FROM ready
    WHERE o.order_id = ready.order_id
    RETURNING o.order_id, o.status, o.selling_authority_id, o.sales_point_key_id, o.channel, o.total_minor,
              o.currency, o.refunded_minor, o.created_at,
              CASE WHEN o.failure_code IS NOT NULL
                   THEN jsonb_build_object('code', o.failure_code, 'detail', o.failure_detail) END AS failure
), line_media AS (
    SELECT c.line_no, c.contract_id, s.serial
    FROM contracts c
    JOIN (SELECT medium_id, serial FROM paper
          UNION ALL SELECT medium_id, serial FROM ticketing_media
                    WHERE serial = ANY(ARRAY(SELECT jsonb_array_elements_text($10::jsonb -> 'media')))) AS s USING (medium_id)
), audited AS (
    INSERT INTO audit_log (action, actor_key_id, authority_id, subject, data, created_at)
    SELECT 'ticketing.order.paid', $3, selling_authority_id, 'order:' || order_id, $9, $2 FROM moved
)
SELECT (SELECT count(*) FROM moved)::integer AS paid,
       (SELECT json_agg(json_build_object('serial', serial, 'status', status, 'replaced', replaced) ORDER BY serial)
        FROM dead) AS dead_media,
       o.order_id, o.status, o.selling_authority_id, o.sales_point_key_id, o.channel, o.total_minor, o.currency,
       o.refunded_minor, o.created_at, o.failure,
       coalesce((
           SELECT json_agg(json_build_object(
               'line_no', l.line_no, 'fare_product_id', l.fare_product_id, 'rider_category_id', l.rider_category_id,
               'fare_media_id', l.fare_media_id, 'quantity', l.quantity, 'unit_price_minor', l.unit_price_minor,
               'amount_minor', l.amount_minor, 'currency', l.currency, 'network_ids', l.network_ids,
               'owning_authority_ids', l.owning_authority_ids,
               'contract_ids', coalesce((SELECT json_agg(c.contract_id ORDER BY c.contract_id) FROM line_media c
                                         WHERE c.line_no = l.line_no), '[]'::json),
               'media', coalesce((SELECT json_agg(DISTINCT c.serial) FROM line_media c
                                  WHERE c.line_no = l.line_no), '[]'::json)
           ) ORDER BY l.line_no)
           FROM lines l), '[]'::json) AS lines,
       coalesce((
           SELECT json_agg(json_build_object(
               'kind', p.kind, 'provider', p.provider, 'provider_reference', p.provider_reference,
               'amount_minor', p.amount_minor, 'currency', p.currency, 'created_at', p.created_at) ORDER BY p.payment_id)
           FROM payment p), '[]'::json) AS payments,
       coalesce((
           SELECT json_agg(json_build_object(
               'line_no', g.line_no, 'kind', g.kind, 'collector_authority_id', g.collector_authority_id,
               'beneficiary_authority_id', g.beneficiary_authority_id, 'network_id', g.network_id,
               'amount_minor', g.amount_minor) ORDER BY g.entry_id)
           FROM ledger g), '[]'::json) AS ledger
FROM (SELECT 1) AS one LEFT JOIN moved o ON true;

-- name: list_commission_rates
-- The default ('*') first, then every authority's own rate; $1 (when not null) keeps the default and that authority's row.
SELECT selling_authority_id, commission_permille FROM ticketing_commission_rates
WHERE $1::text IS NULL OR selling_authority_id IN ('*', $1::text)
ORDER BY selling_authority_id <> '*', selling_authority_id;

-- name: lock_commission_rate_writes
-- Serialise commission rate writers until commit, so the old value each audit row records is exact.
SELECT pg_advisory_xact_lock(hashtext('ticketing_commission_rates'));

-- name: find_commission_rate
-- The rate of exactly this row ('*' or one authority), no fallback; no row when there is none.
SELECT commission_permille FROM ticketing_commission_rates WHERE selling_authority_id = $1;

-- name: upsert_commission_rate
-- Create or change one rate.
INSERT INTO ticketing_commission_rates (selling_authority_id, commission_permille) VALUES ($1, $2)
ON CONFLICT (selling_authority_id) DO UPDATE SET commission_permille = EXCLUDED.commission_permille
RETURNING selling_authority_id, commission_permille;

-- name: delete_commission_rate
-- Remove an authority's own rate; returns the rate it had, no row when it had none.
DELETE FROM ticketing_commission_rates WHERE selling_authority_id = $1 RETURNING commission_permille;

-- name: purge_validations
-- One batch of the purge (ticketing.statistics.purge): the oldest validations that occurred in
-- [$3, $2) and are not purged yet lose their serial and contract link, stamped purged at $1.
-- Late uploads are stamped at write time (claim_validations), so purged_at IS NULL is the test.
UPDATE ticketing_validations AS v
SET medium_serial = NULL, contract_id = NULL, remaining_trips = NULL, purged_at = $1
FROM (SELECT device_key_id, event_id FROM ticketing_validations
      WHERE occurred_at < $2 AND occurred_at >= $3 AND purged_at IS NULL
      ORDER BY occurred_at LIMIT $4) AS due
WHERE v.device_key_id = due.device_key_id AND v.event_id = due.event_id;

-- name: purge_expired_watches
-- An expired watched journey (issue 13) keeps nothing that leads to a medium.
UPDATE watches SET medium_serial = NULL
WHERE medium_serial IS NOT NULL AND (status = 'expired' OR expires_at < $1);
