-- A ticket's card follows the ticket (issue 13): every change queues an edit, at most one per
-- card per interval (a pending edit takes the newest text instead of queueing another), and the
-- escalation scan looks at a ticket again when one of its deadlines passes, to refresh the card
-- and to tell a missed response deadline once.
ALTER TABLE tickets
    ADD COLUMN card_edit_outbox_id     bigint REFERENCES outbox (id), -- the newest card edit
    ADD COLUMN card_edit_at            timestamptz,   -- when that edit leaves (not before)
    ADD COLUMN next_check_at           timestamptz,   -- when a deadline line of the card changes
    ADD COLUMN response_breach_told_at timestamptz;   -- the missed response deadline, told once

-- The due-ticket scan: "next_check_at <= now ORDER BY next_check_at", and the scanner's
-- "when is the next one", read only this partial index.
CREATE INDEX tickets_next_check_idx ON tickets (next_check_at) WHERE next_check_at IS NOT NULL;

-- Tickets open before this migration: the scan looks at each once (its card is brought up to
-- date, a response deadline already missed is told) and schedules the next look itself.
UPDATE tickets SET next_check_at = now() WHERE status IN ('open', 'acknowledged', 'waiting');
