-- Remote card sessions of the Keyple Distributed JSON API (issue 15, nfc_gateway.remote.sessions).
--
-- One row per sessionId (the terminal's card transaction): a sessionId is used once, ever (a
-- reused one is refused). step is what the session expects next: 'awaiting' a RESP to the
-- service named by expected_service, 'processing' a message (a second message meanwhile is out of
-- order), 'ended'. digests holds the SHA-256 of every message received in the session, so a
-- replayed message is recognised and refused; messages counts them (round trips of the session).
-- key_id is the device key that opened it: only that key may continue it. medium_serial is the
-- card read (once known); outcome says how it ended (done, failed, lost).

CREATE TABLE nfc_remote_sessions (
    session_id        text PRIMARY KEY,
    key_id            text NOT NULL,
    client_node_id    text NOT NULL,
    local_reader_name text,
    api_level         smallint NOT NULL,
    service_id        text NOT NULL,
    step              text NOT NULL CHECK (step IN ('awaiting', 'processing', 'ended')),
    expected_service  text,
    messages          integer NOT NULL DEFAULT 1,
    last_digest       bytea NOT NULL,
    digests           bytea[] NOT NULL,
    medium_serial     text,
    outcome           text CHECK (outcome IN ('done', 'failed', 'lost')),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    ended_at          timestamptz
);
CREATE INDEX nfc_remote_sessions_medium_idx ON nfc_remote_sessions (medium_serial, created_at);
