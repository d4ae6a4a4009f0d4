-- Ticketing order lifecycle: a `failed` status with its reason, and partially refunded orders.
-- An order that will never be fulfilled (its card or wallet died while its payment was pending,
-- or its client abandoned it) is `failed`, with a stable reason code and its details; it used to
-- be closed as `refunded` with the reason in `request -> 'refusal'`, which the backfill moves.

ALTER TABLE ticketing_orders
    DROP CONSTRAINT ticketing_orders_status_check,
    ADD CONSTRAINT ticketing_orders_status_check
        CHECK (status IN ('pending', 'paid', 'declined', 'refunded', 'partially_refunded', 'failed')),
    ADD COLUMN failure_code text,
    ADD COLUMN failure_detail jsonb,
    ADD CONSTRAINT ticketing_orders_failure
        CHECK ((status = 'failed') = (failure_code IS NOT NULL) AND (status = 'failed' OR failure_detail IS NULL));

UPDATE ticketing_orders
SET status = 'failed', failure_code = 'medium_not_active', failure_detail = (request -> 'refusal') - 'code',
    request = request - 'refusal'
WHERE request ? 'refusal';

-- Reconciliation looks for pending orders older than a threshold.
CREATE INDEX ticketing_orders_pending_idx ON ticketing_orders (created_at) WHERE status = 'pending';
