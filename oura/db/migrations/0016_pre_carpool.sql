-- Carpool (issue 16, journey_planner.carpool): the offers whose seats OùRA counts, bookings, and
-- the history of their statuses.
--
-- carpool_offers holds a driver journey per (operator, journey_id): the journeys drivers publish
-- through OùRA (hosted: served on OùRA's standard-covoiturage endpoints; operator is OùRA's own
-- id), and the other operators' journeys OùRA has booked (recorded at the first booking, with the
-- seats the operator announced). offer is the standard's DriverJourney as published or as the
-- operator sent it. A booking locks its offer's row (SELECT ... FOR UPDATE) before counting the
-- seats its live bookings hold: a seat is never sold twice. Hosted drivers' identity for the
-- proof register is kept as the register takes it (phone truncated, identity key), never the
-- phone itself.
--
-- carpool_bookings: a booking through OùRA's API carries the traveller's Idempotency-Key (unique,
-- with the digest of the request it came with); a booking posted by another platform on the
-- standard's POST /bookings has none (its id, a UUID, is its key). status follows the standard:
-- WAITING_CONFIRMATION -> CONFIRMED -> COMPLETED_PENDING_VALIDATION -> VALIDATED, or CANCELLED.
-- Seats are held by every status but CANCELLED. carpool_booking_events: one row per status
-- taken, with who set it (source).

CREATE TABLE carpool_offers (
    operator              text NOT NULL,
    journey_id            text NOT NULL,
    hosted                boolean NOT NULL,
    seats                 smallint NOT NULL CHECK (seats BETWEEN 0 AND 8),
    pickup_at             timestamptz NOT NULL,
    pickup_lat            double precision NOT NULL,
    pickup_lng            double precision NOT NULL,
    drop_lat              double precision NOT NULL,
    drop_lng              double precision NOT NULL,
    offer                 jsonb NOT NULL,
    driver_phone_trunc    text,
    driver_identity_key   text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (operator, journey_id)
);
CREATE INDEX carpool_offers_hosted_idx ON carpool_offers (pickup_at) WHERE hosted;

CREATE TABLE carpool_regular_trips (
    operator              text NOT NULL,
    trip_id               text NOT NULL,
    pickup_lat            double precision NOT NULL,
    pickup_lng            double precision NOT NULL,
    drop_lat              double precision NOT NULL,
    drop_lng              double precision NOT NULL,
    trip                  jsonb NOT NULL,
    created_at            timestamptz NOT NULL,
    PRIMARY KEY (operator, trip_id)
);

CREATE TABLE carpool_bookings (
    booking_id             uuid PRIMARY KEY,
    idempotency_key        text UNIQUE,
    request_digest         bytea,
    operator               text NOT NULL,
    journey_id             text NOT NULL,
    seats                  smallint NOT NULL CHECK (seats BETWEEN 1 AND 8),
    status                 text NOT NULL CHECK (status IN ('WAITING_CONFIRMATION', 'CONFIRMED', 'CANCELLED',
                                                           'COMPLETED_PENDING_VALIDATION', 'VALIDATED')),
    origin                 text NOT NULL CHECK (origin IN ('oura', 'platform')),
    booking                jsonb NOT NULL,
    passenger_phone_trunc  text,
    passenger_identity_key text,
    medium_serial          text,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    FOREIGN KEY (operator, journey_id) REFERENCES carpool_offers (operator, journey_id)
);
CREATE INDEX carpool_bookings_offer_idx ON carpool_bookings (operator, journey_id) WHERE status <> 'CANCELLED';
CREATE INDEX carpool_bookings_status_idx ON carpool_bookings (status, updated_at);

CREATE TABLE carpool_booking_events (
    booking_id  uuid NOT NULL REFERENCES carpool_bookings (booking_id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    status      text NOT NULL,
    source      text NOT NULL CHECK (source IN ('passenger', 'operator', 'platform', 'driver')),
    message     text,
    at          timestamptz NOT NULL,
    PRIMARY KEY (booking_id, seq)
);
