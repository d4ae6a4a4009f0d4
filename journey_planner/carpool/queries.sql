-- SQL of carpool offers and bookings (journey_planner.carpool.service); asyncpg placeholders.

-- name: upsert_hosted_offer
-- A driver journey published through OùRA (a new one, or its update: seats, times, the payload).
INSERT INTO carpool_offers (operator, journey_id, hosted, seats, pickup_at, pickup_lat, pickup_lng, drop_lat, drop_lng,
                            offer, driver_phone_trunc, driver_identity_key, created_at, updated_at)
VALUES ($1, $2, true, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $12)
ON CONFLICT (operator, journey_id) DO UPDATE
SET seats = EXCLUDED.seats, pickup_at = EXCLUDED.pickup_at, pickup_lat = EXCLUDED.pickup_lat,
    pickup_lng = EXCLUDED.pickup_lng, drop_lat = EXCLUDED.drop_lat, drop_lng = EXCLUDED.drop_lng,
    offer = EXCLUDED.offer, driver_phone_trunc = EXCLUDED.driver_phone_trunc,
    driver_identity_key = EXCLUDED.driver_identity_key, updated_at = EXCLUDED.updated_at
WHERE carpool_offers.hosted;

-- name: record_external_offer
-- Another operator's journey, at its first booking through OùRA: the seats it announced then.
INSERT INTO carpool_offers (operator, journey_id, hosted, seats, pickup_at, pickup_lat, pickup_lng, drop_lat, drop_lng,
                            offer, created_at, updated_at)
VALUES ($1, $2, false, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $10)
ON CONFLICT (operator, journey_id) DO NOTHING;

-- name: upsert_hosted_regular_trip
INSERT INTO carpool_regular_trips (operator, trip_id, pickup_lat, pickup_lng, drop_lat, drop_lng, trip, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
ON CONFLICT (operator, trip_id) DO UPDATE
SET pickup_lat = EXCLUDED.pickup_lat, pickup_lng = EXCLUDED.pickup_lng, drop_lat = EXCLUDED.drop_lat,
    drop_lng = EXCLUDED.drop_lng, trip = EXCLUDED.trip;

-- name: find_offer
SELECT operator, journey_id, hosted, seats, offer, driver_phone_trunc, driver_identity_key
FROM carpool_offers WHERE operator = $1 AND journey_id = $2;

-- name: lock_offer
-- The offer's row, locked until the booking transaction ends: bookings of one offer queue here.
SELECT seats, hosted FROM carpool_offers WHERE operator = $1 AND journey_id = $2 FOR UPDATE;

-- name: read_offer_unlocked
-- The same read without the lock (only for the lock-pair test: seat_lock=False).
SELECT seats, hosted FROM carpool_offers WHERE operator = $1 AND journey_id = $2;

-- name: seats_held
-- Seats held on an offer by its live bookings (every status but CANCELLED).
SELECT coalesce(sum(seats), 0)::int FROM carpool_bookings
WHERE operator = $1 AND journey_id = $2 AND status <> 'CANCELLED';

-- name: list_hosted_offers_near
-- Hosted journeys picking up in a time window, their pickup and drop in bounding boxes, with the
-- seats still free.
SELECT o.operator, o.journey_id, o.seats, o.offer,
       o.seats - coalesce((SELECT sum(b.seats) FROM carpool_bookings b
                           WHERE b.operator = o.operator AND b.journey_id = o.journey_id
                             AND b.status <> 'CANCELLED'), 0)::int AS free
FROM carpool_offers o
WHERE o.hosted AND o.pickup_at BETWEEN $1 AND $2
  AND o.pickup_lat BETWEEN $3 AND $4 AND o.pickup_lng BETWEEN $5 AND $6
  AND o.drop_lat BETWEEN $7 AND $8 AND o.drop_lng BETWEEN $9 AND $10
ORDER BY o.pickup_at, o.journey_id;

-- name: list_hosted_regular_trips_near
SELECT trip FROM carpool_regular_trips
WHERE pickup_lat BETWEEN $1 AND $2 AND pickup_lng BETWEEN $3 AND $4
  AND drop_lat BETWEEN $5 AND $6 AND drop_lng BETWEEN $7 AND $8
ORDER BY trip_id;

-- name: find_booking_by_key
SELECT booking_id, request_digest FROM carpool_bookings WHERE idempotency_key = $1;

-- name: insert_booking
INSERT INTO carpool_bookings (booking_id, idempotency_key, request_digest, operator, journey_id, seats, status, origin,
                              booking, passenger_phone_trunc, passenger_identity_key, medium_serial, created_at,
                              updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $13);

-- name: insert_event
-- The booking's next status event (seq after its last).
INSERT INTO carpool_booking_events (booking_id, seq, status, source, message, at)
SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5 FROM carpool_booking_events WHERE booking_id = $1;

-- name: lock_booking
SELECT booking_id, status, origin, operator, journey_id, booking FROM carpool_bookings WHERE booking_id = $1 FOR UPDATE;

-- name: set_booking_status
UPDATE carpool_bookings SET status = $2, booking = $3::jsonb, updated_at = $4 WHERE booking_id = $1;

-- name: delete_booking
-- A booking the operator did not take (its relay failed): withdrawn, its seats free again.
DELETE FROM carpool_bookings WHERE booking_id = $1;

-- name: find_booking
SELECT b.booking_id, b.idempotency_key IS NOT NULL AS keyed, b.operator, b.journey_id, b.seats, b.status, b.origin,
       b.booking, b.medium_serial, b.created_at, b.updated_at, o.hosted
FROM carpool_bookings b JOIN carpool_offers o USING (operator, journey_id)
WHERE b.booking_id = $1;

-- name: list_events
SELECT seq, status, source, message, at FROM carpool_booking_events WHERE booking_id = $1 ORDER BY seq;

-- name: list_completed_hosted
-- Trips to send to the proof register: bookings of hosted journeys that were carried out
-- (COMPLETED_PENDING_VALIDATION or VALIDATED) and updated in [$1, $2).
SELECT b.booking_id, b.seats, b.status, b.booking, b.passenger_phone_trunc, b.passenger_identity_key,
       b.medium_serial, o.offer, o.driver_phone_trunc, o.driver_identity_key,
       (SELECT max(e.at) FROM carpool_booking_events e
        WHERE e.booking_id = b.booking_id AND e.status = 'COMPLETED_PENDING_VALIDATION') AS completed_at
FROM carpool_bookings b JOIN carpool_offers o USING (operator, journey_id)
WHERE o.hosted AND b.status IN ('COMPLETED_PENDING_VALIDATION', 'VALIDATED') AND b.updated_at >= $1 AND b.updated_at < $2
ORDER BY b.updated_at, b.booking_id;

-- name: mark_proofs_exported
-- (journey_planner.carpool.proof_export) The first export of the trips $1 (booking ids) at $2;
-- a trip exported before keeps its first time.
UPDATE carpool_bookings SET proof_exported_at = $2
WHERE booking_id = ANY($1::uuid[]) AND proof_exported_at IS NULL;

-- name: list_validated_hosted
-- (journey_planner.carpool.proof_export) Bookings of hosted journeys validated in [$1, $2) (the
-- VALIDATED event's time), in that order, with what the proof register needs; the bookings are
-- locked (in that order) so two exports of one window mark each trip's first export once.
SELECT b.booking_id, b.seats, b.status, b.booking, b.passenger_phone_trunc, b.passenger_identity_key,
       b.medium_serial, b.proof_exported_at, o.offer, o.driver_phone_trunc, o.driver_identity_key,
       e.at AS validated_at
FROM carpool_booking_events e
JOIN carpool_bookings b ON b.booking_id = e.booking_id
JOIN carpool_offers o ON o.operator = b.operator AND o.journey_id = b.journey_id
WHERE e.status = 'VALIDATED' AND e.at >= $1 AND e.at < $2 AND b.status = 'VALIDATED' AND o.hosted
ORDER BY e.at, b.booking_id
FOR UPDATE OF b;
