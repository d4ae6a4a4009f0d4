-- NFC gateway, devices (issue 15): vending machines and validators registered by an admin, what
-- they last told the server, and the sales vending machines made while offline.
--
-- * nfc_devices: one row per device, bound to the API key (role device) it was given at
--   registration; revoking the device revokes the key. last_contact_at is the last heartbeat,
--   deny-list acknowledgement or upload; denylist_version only goes up (the highest acknowledged).
--   offline_credit_limit_minor is set for vending machines only.
-- * nfc_device_offline_windows: the periods a device was silent for longer than the contact gap
--   (from its last contact before the silence to the contact that ended it). A sale sold inside
--   one counts against the machine's offline credit of that window.
-- * nfc_offline_sales: every sale a vending machine uploaded, once per (device, sequence): the
--   sale as sent (its hash decides whether a second upload is the same sale), the window it was
--   counted in (NULL: sold while online), and its outcome: accepted (credit reserved, the order
--   is being made), sold (order_id) or refused (refusal_code, and the credit is not used).

CREATE TABLE nfc_devices (
    device_id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority_id               text NOT NULL,
    kind                       text NOT NULL CHECK (kind IN ('vending_machine', 'validator')),
    label                      text NOT NULL,
    key_id                     text NOT NULL UNIQUE REFERENCES api_keys,
    offline_credit_limit_minor bigint CHECK (offline_credit_limit_minor >= 0),
    created_at                 timestamptz NOT NULL,
    revoked_at                 timestamptz,
    last_contact_at            timestamptz,
    last_heartbeat_at          timestamptz,
    reported_last_sequence     bigint CHECK (reported_last_sequence >= 0),  -- the machine's own count, from its heartbeats
    denylist_version           bigint NOT NULL DEFAULT 0 CHECK (denylist_version >= 0),
    denylist_acked_at          timestamptz,
    CONSTRAINT nfc_devices_credit CHECK ((kind = 'vending_machine') = (offline_credit_limit_minor IS NOT NULL))
);
CREATE INDEX nfc_devices_authority_idx ON nfc_devices (authority_id, device_id);

CREATE TABLE nfc_device_offline_windows (
    device_id       bigint NOT NULL REFERENCES nfc_devices,
    offline_from    timestamptz NOT NULL,
    online_again_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, offline_from),
    CONSTRAINT nfc_device_offline_windows_order CHECK (online_again_at > offline_from)
);

CREATE TABLE nfc_offline_sales (
    device_id      bigint NOT NULL REFERENCES nfc_devices,
    sequence       bigint NOT NULL CHECK (sequence >= 1),
    request_hash   text NOT NULL,
    sale           jsonb NOT NULL,
    sold_at        timestamptz NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor >= 0),
    payment_method text NOT NULL CHECK (payment_method IN ('cash', 'card')),
    window_from    timestamptz,
    status         text NOT NULL CHECK (status IN ('accepted', 'sold', 'refused')),
    order_id       bigint,
    refusal_code   text,
    refusal_detail text,
    received_at    timestamptz NOT NULL,
    decided_at     timestamptz,
    PRIMARY KEY (device_id, sequence),
    CONSTRAINT nfc_offline_sales_outcome CHECK ((status = 'refused') = (refusal_code IS NOT NULL)
                                                AND (status = 'sold') = (order_id IS NOT NULL))
);
CREATE INDEX nfc_offline_sales_window_idx ON nfc_offline_sales (device_id, window_from) WHERE status <> 'refused';
