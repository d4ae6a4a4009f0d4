-- Carpool proof export (issue 16, journey_planner.carpool.proof_export): a validated trip is sent
-- to the proof register once.
--
-- A hosted journey's booking that reached VALIDATED is exported in the window of its validation
-- time (the VALIDATED event's at), so consecutive windows never hold a trip twice.
-- proof_exported_at is the time of its first export (NULL: never exported); exporting the same
-- window again answers the same journeys and keeps that first time. The partial index finds a
-- window's validations.

ALTER TABLE carpool_bookings ADD COLUMN proof_exported_at timestamptz;
CREATE INDEX carpool_booking_events_validated_idx ON carpool_booking_events (at) WHERE status = 'VALIDATED';
