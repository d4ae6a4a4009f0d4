-- Revenue integrity: proof behind reduced fares, reconstitutions and declarations; a read-only
-- key for the metrics scraper.
--
-- * ticketing_entitlements: a medium may be sold a rider category other than the default only
--   while it holds a valid entitlement for it. The row is a minimal claim (which category, who
--   checked the proof and until when), never the document that proved it.
-- * ticketing_media.secret_hash: sha256 of the secret printed on an anonymous card (or shown in
--   an anonymous wallet) at issue; the secret is 128 random bits, so a plain hash is enough.
--   Media issued before this migration have none: an anonymous one can no longer be
--   reconstituted (there is no proof to ask for).
-- * ticketing_accounts.account_number: the holder's account number, random and never printed on
--   the card; a registered card is reconstituted, or declared by another authority, when the
--   holder presents it. Existing accounts get one (122 random bits of a v4 UUID).
-- * api_keys: a `metrics` role (read /metrics only, bound to no authority).

ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_role_check,
    ADD CONSTRAINT api_keys_role_check CHECK (role IN ('device', 'sales_point', 'authority', 'admin', 'metrics')),
    DROP CONSTRAINT api_keys_authority_scope,
    ADD CONSTRAINT api_keys_authority_scope CHECK (role IN ('admin', 'metrics') OR authority_id IS NOT NULL);

ALTER TABLE ticketing_accounts ADD COLUMN account_number text;
UPDATE ticketing_accounts SET account_number = 'A' || upper(replace(gen_random_uuid()::text, '-', ''));
ALTER TABLE ticketing_accounts
    ALTER COLUMN account_number SET NOT NULL,
    ADD CONSTRAINT ticketing_accounts_account_number_key UNIQUE (account_number);

ALTER TABLE ticketing_media ADD COLUMN secret_hash bytea;

CREATE TABLE ticketing_entitlements (
    entitlement_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    medium_id                bigint NOT NULL REFERENCES ticketing_media,
    rider_category_id        text NOT NULL,
    verified_by_authority_id text NOT NULL,
    verified_by_key_id       text NOT NULL,
    valid_until              timestamptz NOT NULL,
    created_at               timestamptz NOT NULL
);
CREATE INDEX ticketing_entitlements_medium_idx ON ticketing_entitlements (medium_id, rider_category_id, valid_until);
