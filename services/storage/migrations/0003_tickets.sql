-- The support desk: tickets, every message in both directions, and a timeline of events.
-- Escalation adds its own columns (escalation level, level_entered_at...) with ALTER TABLE in
-- its migration; the repository names its columns, so new ones do not disturb it.

CREATE TABLE tickets (
    id                 bigserial PRIMARY KEY,         -- shown as QC-000123
    customer_id        bigint NOT NULL REFERENCES users (id),
    status             text NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'acknowledged', 'waiting', 'resolved', 'closed')),
    priority           text NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
    category           text NOT NULL
                       CHECK (category IN ('payment', 'order', 'account', 'security', 'other')),
    channel            text NOT NULL DEFAULT 'bot'
                       CHECK (channel IN ('bot', 'admin_chat', 'email', 'emergency')),
    subject            text NOT NULL,                 -- first words of the description
    description        text NOT NULL,
    order_ref          text,                          -- validated QuickCart / Pakasir reference
    language           text NOT NULL DEFAULT 'id',
    assignee_id        bigint,
    support_chat_id    bigint,                        -- where the topic lives (follows migration)
    topic_id           integer,                       -- forum topic (message_thread_id)
    topic_outbox_id    bigint REFERENCES outbox (id), -- the create_topic row of the current topic
    card_outbox_id     bigint REFERENCES outbox (id), -- the card message in the topic
    card_message_id    bigint,
    customer_blocked_at timestamptz,                  -- 403: the customer blocked the bot
    classification     jsonb NOT NULL DEFAULT '{}',   -- reasons the priority was chosen
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    first_response_at  timestamptz,
    response_due       timestamptz NOT NULL,
    resolution_due     timestamptz NOT NULL,
    resolved_at        timestamptz,
    closed_at          timestamptz,
    rating             smallint CHECK (rating BETWEEN 1 AND 5),
    rated_at           timestamptz
);
-- My tickets (customer), newest first; and "which open ticket does this message belong to".
CREATE INDEX tickets_customer_idx ON tickets (customer_id, created_at DESC);
-- Staff message in a topic -> its ticket.
CREATE UNIQUE INDEX tickets_topic_idx ON tickets (support_chat_id, topic_id)
    WHERE topic_id IS NOT NULL;
-- /tickets and /tickets breached: active tickets by priority and deadline.
CREATE INDEX tickets_active_idx ON tickets (priority, response_due)
    WHERE status IN ('open', 'acknowledged', 'waiting');
-- /tickets mine
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id)
    WHERE status IN ('open', 'acknowledged', 'waiting');
-- auto-close scan
CREATE INDEX tickets_resolved_idx ON tickets (resolved_at) WHERE status = 'resolved';

CREATE TABLE ticket_messages (
    id                  bigserial PRIMARY KEY,
    ticket_id           bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    direction           text NOT NULL CHECK (direction IN ('in', 'out', 'note')),
    author_id           bigint,                       -- customer (in) or staff (out, note)
    kind                text NOT NULL,                -- text, photo, document, other
    body                text,                         -- text or caption
    file_id             text,
    source_chat_id      bigint NOT NULL,              -- where it was written
    source_message_id   bigint NOT NULL,
    relay_outbox_id     bigint REFERENCES outbox (id),-- the copy on the other side
    relay_message_id    bigint,                       -- filled in when the copy is delivered
    created_at          timestamptz NOT NULL
);
CREATE INDEX ticket_messages_ticket_idx ON ticket_messages (ticket_id, id);
CREATE INDEX ticket_messages_relay_idx ON ticket_messages (relay_outbox_id)
    WHERE relay_outbox_id IS NOT NULL;
CREATE UNIQUE INDEX ticket_messages_source_idx
    ON ticket_messages (source_chat_id, source_message_id);

-- The timeline: created, classified, acknowledged, assigned, priority_changed, escalated,
-- resolved, reopened, rated, closed, and the steps between (customer_message, staff_reply...).
CREATE TABLE ticket_events (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    actor_id   bigint,                                -- NULL: the bot itself
    kind       text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, at, id);
