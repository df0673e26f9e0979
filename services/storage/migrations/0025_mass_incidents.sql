-- Mass incidents (issue 16): an incident staff declared customer-facing answers every matching
-- customer at once with a known-issue notice; each such customer's message becomes a ticket
-- of kind 'linked' (the incident's ticket as parent) that has no topic of its own.

ALTER TABLE tickets
    ADD COLUMN kind      text NOT NULL DEFAULT 'normal' CHECK (kind IN ('normal', 'linked')),
    ADD COLUMN parent_id bigint REFERENCES tickets (id);
-- An incident's linked customers (fan-outs, the card's count and last names).
CREATE INDEX tickets_parent_idx ON tickets (parent_id, id) WHERE parent_id IS NOT NULL;
-- "Does this customer have a live link?": the intake asks it for every private message.
CREATE INDEX tickets_customer_linked_idx ON tickets (customer_id, created_at DESC)
    WHERE kind = 'linked';

-- The customer-facing side of an incident (ticket_id of 0008's incidents).
CREATE TABLE public_incidents (
    ticket_id        bigint PRIMARY KEY REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    notice_id        text,                    -- the notice in Bahasa Indonesia
    notice_en        text,                    -- in English; a missing one falls back
    categories       text[] NOT NULL DEFAULT '{}',
    keywords         text[] NOT NULL DEFAULT '{}',
    everyone         boolean NOT NULL DEFAULT false,  -- a total outage: whoever writes
    declared_by      bigint,
    declared_at      timestamptz NOT NULL,
    ended_at         timestamptz,             -- resolved: no more matching
    support_card_id  bigint REFERENCES outbox (id),   -- the one card in the support group
    admin_card_id    bigint REFERENCES outbox (id),   -- and in the admin chat
    card_edit_at     timestamptz,             -- the newest card edit leaves then (not before)
    last_update      text,
    last_update_at   timestamptz,
    digest_outbox_id bigint REFERENCES outbox (id),   -- the digest message being extended
    digest_lines     integer NOT NULL DEFAULT 0
);
CREATE INDEX public_incidents_open_idx ON public_incidents (declared_at) WHERE ended_at IS NULL;

-- One status update (or the resolution) sent to every linked customer through the outbox.
-- Its rows are queued in the transaction that stores it (dedup key per customer), so a crash
-- never loses or doubles one; sent/blocked are counted by the delivery hook as rows leave.
CREATE TABLE public_updates (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES public_incidents (ticket_id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('update', 'resolved')),
    body        text NOT NULL,
    author_id   bigint,
    created_at  timestamptz NOT NULL,
    total       integer NOT NULL DEFAULT 0,
    sent        integer NOT NULL DEFAULT 0,
    blocked     integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    finished_at timestamptz
);
CREATE INDEX public_updates_ticket_idx ON public_updates (ticket_id, id);

-- Customers who wrote about something (classified) while no ticket of theirs was open and no
-- customer-facing incident matched: the proposal counts them with the new tickets, so a storm
-- of "pembayaran gagal" is noticed before anyone opened a ticket.
CREATE TABLE public_signals (
    customer_id bigint NOT NULL,
    category    text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX public_signals_at_idx ON public_signals (at);

-- Proposals the bot made ("12 payment tickets in 6 minutes: declare?"): one per category per
-- window, so a storm is proposed once in each staff chat.
CREATE TABLE public_proposals (
    id            bigserial PRIMARY KEY,
    category      text NOT NULL,
    window_start  timestamptz NOT NULL,
    tickets       integer NOT NULL,
    alert         text,
    title         text NOT NULL,
    created_at    timestamptz NOT NULL,
    decided_by    bigint,
    decided_at    timestamptz,
    incident_id   bigint REFERENCES tickets (id),
    UNIQUE (category, window_start)
);
CREATE INDEX public_proposals_open_idx ON public_proposals (category, created_at)
    WHERE decided_at IS NULL;
