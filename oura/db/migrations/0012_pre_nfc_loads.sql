-- NFC gateway, remote loads (issue 15): what the server owes each card or wallet, and its copy of each card.
--
-- * nfc_load_jobs: one row per contract (or counter top-up) to write onto a medium, moved through
--   pending -> written -> confirmed (or pending -> refunded past its deadline, or cancelled when
--   its contract left the medium) by conditional UPDATEs only. card_contract_serial is the
--   ContractSerialNumber written on the card (the ticketing contract id): a read of the card
--   recognises the load by it. offered_at: when a session last got the job to write; the card may
--   then hold it, so the job is not refunded before a later read shows it absent (NULL again).
--   No foreign key into ticketing's tables: the gateway reads them through ticketing's modules.
-- * nfc_card_mirror: the server's copy of a card (CardImage JSON), updated in the transaction that
--   confirms a load or records a read.
-- * nfc_tariff_codes, nfc_provider_codes: stable card codes (ContractTariff, ContractProvider) of a
--   fare product and of an authority, assigned on first use.

CREATE TABLE nfc_tariff_codes (
    fare_product_id text PRIMARY KEY,
    tariff          integer NOT NULL CHECK (tariff BETWEEN 1 AND 16383),
    created_at      timestamptz NOT NULL,
    CONSTRAINT nfc_tariff_codes_tariff_key UNIQUE (tariff)
);

CREATE TABLE nfc_provider_codes (
    authority_id text PRIMARY KEY,
    provider     integer NOT NULL CHECK (provider BETWEEN 1 AND 255),
    created_at   timestamptz NOT NULL,
    CONSTRAINT nfc_provider_codes_provider_key UNIQUE (provider)
);

CREATE TABLE nfc_load_jobs (
    job_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    medium_serial        text NOT NULL,
    contract_id          bigint NOT NULL,              -- ticketing_contracts.contract_id the load carries
    kind                 text NOT NULL CHECK (kind IN ('contract', 'top_up')),
    status               text NOT NULL CHECK (status IN ('pending', 'written', 'confirmed', 'refunded', 'cancelled')),
    card_contract_serial bigint NOT NULL CHECK (card_contract_serial BETWEEN 1 AND 4294967295),
    tariff               integer NOT NULL,
    network_id           integer NOT NULL,
    provider             integer NOT NULL,
    valid_from           timestamptz NOT NULL,
    valid_until          timestamptz,
    trips                integer CHECK (trips >= 0),   -- counter to write (to add, for a top-up); NULL: none
    deadline             timestamptz NOT NULL,         -- still pending then (and not in doubt): refunded
    offered_at           timestamptz,                  -- last handed to a session to write; NULL: not since the last read
    session_id           text,
    card_record          integer,
    confirmed_by         text CHECK (confirmed_by IN ('session', 'read', 'use')),
    created_at           timestamptz NOT NULL,
    written_at           timestamptz,
    confirmed_at         timestamptz,
    refunded_at          timestamptz,
    CONSTRAINT nfc_load_jobs_contract_once UNIQUE (contract_id),
    CONSTRAINT nfc_load_jobs_card_serial UNIQUE (medium_serial, card_contract_serial),
    CONSTRAINT nfc_load_jobs_stamps CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL AND confirmed_by IS NOT NULL)
                                           AND (status = 'refunded') = (refunded_at IS NOT NULL)
                                           AND (status <> 'written' OR session_id IS NOT NULL))
);
CREATE INDEX nfc_load_jobs_medium_idx ON nfc_load_jobs (medium_serial, job_id);
CREATE INDEX nfc_load_jobs_due_idx ON nfc_load_jobs (deadline) WHERE status = 'pending';

CREATE TABLE nfc_card_mirror (
    medium_serial text PRIMARY KEY,
    image         jsonb NOT NULL,                      -- nfc_gateway.remote.model.CardImage.to_json()
    version       bigint NOT NULL,                     -- 1 at the first copy, +1 at every update
    updated_at    timestamptz NOT NULL
);
