-- NFC gateway, counter top-ups (issue 15): a load job may add trips to a contract already on the card.
--
-- A paid trips contract (a carnet) for a medium whose card holds a confirmed contract of the same
-- fare product becomes a top-up of that contract (nfc_gateway.remote.loads): kind 'top_up',
-- top_up_of the ContractSerialNumber of the contract on the card it adds to, top_up_seq its rank
-- among that contract's top-ups (1, 2, ...). The write session that applies it increases the
-- contract's counter and writes top_up_seq into the contract record (ContractPaymentPointer), in
-- one atomic card session, so a later read of the card tells whether it was applied: top-ups of a
-- contract are written in rank order and a top-up is on the card when the record's rank is at
-- least its own. A top-up whose contract is no longer on the card becomes a contract load (kind
-- 'contract', the two columns NULL).

ALTER TABLE nfc_load_jobs
    ADD COLUMN top_up_of  bigint CHECK (top_up_of BETWEEN 1 AND 4294967295),
    ADD COLUMN top_up_seq integer CHECK (top_up_seq >= 1),
    ADD CONSTRAINT nfc_load_jobs_top_up
        CHECK ((kind = 'top_up') = (top_up_of IS NOT NULL) AND (top_up_of IS NULL) = (top_up_seq IS NULL)),
    ADD CONSTRAINT nfc_load_jobs_top_up_rank UNIQUE (medium_serial, top_up_of, top_up_seq);
