-- Anonymised statistics (issue 14).
--
-- * ticketing_validations keeps the medium serial (and the contract it used, which leads to the
--   medium) only while fraud detection and trip chaining need it: a background job sets both to
--   NULL once occurred_at is older than the retention (48 h by default) and stamps purged_at. The
--   (device, event id) key stays, so a retried upload is still applied once.
-- * stat_releases: one row per released period (a service day or a month) and kind, computed once;
--   method and parameters say how it was protected (k, suppression, differential privacy).
-- * stat_cells: the released numbers, nothing else. A cell belongs to a family (a table layout:
--   route_hour, stop, ...) and a scope (a network, or a selling authority and owner networks);
--   row_key/col_key are its categories, '*' in a margin. count NULL: suppressed. Who may read a
--   scope is in authority_ids. No serial, account, key or order id is ever stored here.
-- * stat_privacy_ledger: the privacy budget spent, per authority and period, one row per noisy
--   family released; the sum over a period never exceeds the configured budget.

ALTER TABLE ticketing_validations ALTER COLUMN medium_serial DROP NOT NULL;
ALTER TABLE ticketing_validations ADD COLUMN purged_at timestamptz;
CREATE INDEX ticketing_validations_occurred_idx ON ticketing_validations (occurred_at);

CREATE TABLE stat_releases (
    release_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('validations', 'sales', 'od')),
    period_kind  text NOT NULL CHECK (period_kind IN ('day', 'month')),
    period_start date NOT NULL,          -- the service day (04:00 to 04:00 in the region's zone), or the month's first day
    method       text NOT NULL CHECK (method IN ('suppression', 'laplace', 'gaussian')),
    parameters   jsonb NOT NULL,         -- k, epsilon, delta, noise scale, contribution bounds, ...
    created_at   timestamptz NOT NULL,
    CONSTRAINT stat_releases_once UNIQUE (kind, period_kind, period_start)
);

CREATE TABLE stat_cells (
    release_id      bigint NOT NULL REFERENCES stat_releases ON DELETE CASCADE,
    family          text NOT NULL,
    scope           text NOT NULL,
    row_key         text NOT NULL,       -- '*': the margin over rows
    col_key         text NOT NULL,       -- '*': the margin over columns; '' in a one-dimensional family
    count           bigint CHECK (count >= 0),   -- NULL: suppressed
    amount_minor    bigint,              -- money (sales families), NULL elsewhere or suppressed
    parts_suppressed integer NOT NULL DEFAULT 0, -- month cells: day cells left out because suppressed (count is then a lower bound)
    authority_ids   text[] NOT NULL,     -- authorities that may read this scope (admin reads all)
    network_ids     text[] NOT NULL,     -- networks the scope is about
    PRIMARY KEY (release_id, family, scope, row_key, col_key)
);
CREATE INDEX stat_cells_authority_idx ON stat_cells USING gin (authority_ids);

CREATE TABLE stat_privacy_ledger (
    entry_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority_id text NOT NULL,
    period_kind  text NOT NULL CHECK (period_kind IN ('day', 'month')),
    period_start date NOT NULL,
    release_id   bigint NOT NULL REFERENCES stat_releases ON DELETE CASCADE,
    family       text NOT NULL,
    mechanism    text NOT NULL CHECK (mechanism IN ('laplace', 'gaussian')),
    epsilon      double precision NOT NULL CHECK (epsilon > 0),
    delta        double precision NOT NULL DEFAULT 0 CHECK (delta >= 0),
    scale        double precision NOT NULL,    -- the noise's scale (Laplace b, or Gaussian sigma) on counts
    sensitivity  double precision NOT NULL,    -- the contribution bound it was calibrated to
    created_at   timestamptz NOT NULL
);
CREATE INDEX stat_privacy_ledger_period_idx ON stat_privacy_ledger (authority_id, period_kind, period_start);
