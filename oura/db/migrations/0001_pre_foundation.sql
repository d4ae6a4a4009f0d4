-- Foundation: API keys and the audit log.

CREATE TABLE api_keys (
    key_id       text PRIMARY KEY,                 -- public part of the key, shown in listings
    secret_hash  bytea NOT NULL,                   -- sha256 of the secret part; the secret itself is never stored
    role         text NOT NULL CHECK (role IN ('device', 'sales_point', 'authority', 'admin')),
    authority_id text,                             -- required for every role but admin
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_authority_scope CHECK (role = 'admin' OR authority_id IS NOT NULL)
);

CREATE TABLE audit_log (
    audit_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action       text NOT NULL,                    -- dotted name, e.g. ticketing.order.placed
    actor_key_id text,                             -- api key that caused it, if any
    authority_id text,
    subject      text,                             -- the entity acted upon, e.g. order:42
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at);
