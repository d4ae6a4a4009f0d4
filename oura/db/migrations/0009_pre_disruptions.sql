-- Operator disruptions (issue 13): what an authority declares (a closed stop, a cut route, cancelled
-- trips, a replacement bus) for a period, and the audit of every change made to them.
CREATE TABLE disruptions (
    disruption_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority_id     text NOT NULL,   -- the authority owning the network
    network_id       text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('close_stop', 'cut_route', 'cancel_trips', 'replacement_bus')),
    spec             jsonb NOT NULL,  -- the kind's fields, ids namespaced
    period_start     timestamptz NOT NULL,
    period_end       timestamptz,     -- NULL: until further notice
    cause            text NOT NULL,
    effect           text NOT NULL,
    header_text      jsonb NOT NULL,  -- language -> text
    description_text jsonb NOT NULL,
    url              jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    ended_at         timestamptz,     -- set by DELETE: the row is kept for the audit
    created_by_key   text NOT NULL,
    idempotency_key  text,
    request_hash     text,
    CHECK (period_end IS NULL OR period_end > period_start)
);
CREATE UNIQUE INDEX disruptions_idempotency_idx ON disruptions (created_by_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX disruptions_open_idx ON disruptions (network_id) WHERE ended_at IS NULL;

-- Append-only: who changed a disruption (key and its authority, NULL for an admin), when, and how.
CREATE TABLE disruption_audit (
    audit_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    disruption_id bigint NOT NULL REFERENCES disruptions,
    action        text NOT NULL CHECK (action IN ('create', 'update', 'end')),
    key_id        text NOT NULL,
    authority_id  text,
    at            timestamptz NOT NULL,
    before        jsonb,
    after         jsonb NOT NULL
);
CREATE INDEX disruption_audit_disruption_idx ON disruption_audit (disruption_id);

CREATE FUNCTION disruption_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disruption_audit is append-only';
END;
$$;
CREATE TRIGGER disruption_audit_no_change BEFORE UPDATE OR DELETE ON disruption_audit
    FOR EACH ROW EXECUTE FUNCTION disruption_audit_append_only();
