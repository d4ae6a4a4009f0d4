-- feeds: static feed versions (accepted and rejected), their issues, the version each network
-- currently serves, and per-network fetch state (conditional GET validators, health).

CREATE TABLE feed_versions (
    version_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network_id     text NOT NULL,                  -- registry network id == feed id (id namespace)
    authority_id   text NOT NULL,
    sha256         text NOT NULL,                  -- of the zip as stored (folders zipped deterministically)
    source         text NOT NULL,                  -- URL or path it was fetched from
    status         text NOT NULL CHECK (status IN ('accepted', 'rejected')),
    fetched_at     timestamptz NOT NULL,
    validity_start date,                           -- first service day the feed describes
    validity_end   date,                           -- last service day the feed describes
    size_bytes     bigint NOT NULL DEFAULT 0,
    counts         jsonb NOT NULL DEFAULT '{}'::jsonb,   -- file stem -> rows
    issue_counts   jsonb NOT NULL DEFAULT '{}'::jsonb,   -- severity -> issue code -> occurrences
    summary        text NOT NULL DEFAULT '',       -- plain-words verdict shown by `oura feeds report`
    content_path   text,                           -- content-addressed zip; NULL for rejected versions
    etag           text,
    last_modified  text
);
CREATE INDEX feed_versions_network_idx ON feed_versions (network_id, fetched_at DESC);
CREATE INDEX feed_versions_sha_idx ON feed_versions (network_id, sha256);

CREATE TABLE feed_issues (
    version_id   bigint NOT NULL REFERENCES feed_versions (version_id) ON DELETE CASCADE,
    ordinal      integer NOT NULL,
    code         text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('fatal', 'warning', 'info')),
    file         text,
    row_number   integer,                          -- line in the file (header = line 1)
    entity_id    text,
    field        text,
    value        text,
    message      text NOT NULL,
    occurrences  integer NOT NULL DEFAULT 1,       -- > 1 when the issue stands for a capped series
    PRIMARY KEY (version_id, ordinal)
);

CREATE TABLE feed_current (
    network_id   text PRIMARY KEY,
    version_id   bigint NOT NULL REFERENCES feed_versions (version_id),
    published_at timestamptz NOT NULL
);

CREATE TABLE feed_fetch_state (
    network_id           text PRIMARY KEY,
    authority_id         text NOT NULL,
    last_attempt_at      timestamptz NOT NULL,
    last_outcome         text NOT NULL CHECK (last_outcome IN ('accepted', 'rejected', 'unchanged', 'not_modified', 'failed')),
    last_error           text,
    last_sha256          text,                     -- content last fetched (accepted or rejected)
    etag                 text,
    last_modified        text,
    consecutive_failures integer NOT NULL DEFAULT 0
);
