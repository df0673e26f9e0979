-- Escalation and on-call (issue 5). An incident is a ticket with an escalation level.

-- Who holds each role's on-call slot now (`/oncall set <role> <user>`); staff.on_call mirrors
-- "holds at least one slot".
CREATE TABLE oncall_slots (
    role     text PRIMARY KEY,
    user_id  bigint NOT NULL REFERENCES staff (user_id) ON DELETE CASCADE,
    set_by   bigint,
    set_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
    ticket_id               bigint PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    priority                text NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
    source                  text NOT NULL,            -- ticket, staff, alert
    level                   smallint NOT NULL CHECK (level >= 1),
    opened_at               timestamptz NOT NULL,
    opened_by               bigint,
    level_entered_at        timestamptz NOT NULL,     -- time at a level counts from here
    next_deadline           timestamptz,              -- NULL: nothing will fall due
    acknowledged_by         bigint,
    acknowledged_at         timestamptz,
    response_breach_told_at timestamptz,              -- the response-SLA breach is told once
    resolved_by             bigint,
    resolved_at             timestamptz,
    escalations             integer NOT NULL DEFAULT 0
);
-- The due-item scan: "next_deadline <= now ORDER BY next_deadline", and the worker's
-- "when is the next one" both read only this small partial index.
CREATE INDEX incidents_next_deadline_idx ON incidents (next_deadline)
    WHERE next_deadline IS NOT NULL;
-- /incidents
CREATE INDEX incidents_open_idx ON incidents (priority, opened_at) WHERE resolved_at IS NULL;

-- Every copy of an incident's message (private pages, group notices): each is edited in
-- place when someone acknowledges, escalates or resolves.
CREATE TABLE incident_messages (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint NOT NULL REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    outbox_id     bigint NOT NULL REFERENCES outbox (id),
    chat_id       bigint NOT NULL,
    recipient_id  bigint,                 -- the person of a private copy; NULL for a group
    language      text,
    variant       text NOT NULL,          -- page, notice, escalated, breach
    extra         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_messages_ticket_idx ON incident_messages (ticket_id, id);

-- The bot itself as the "customer" of tickets raised by alerts and by no one in particular.
INSERT INTO users (id, first_name, username) VALUES (0, 'QuickCart Ops', NULL)
ON CONFLICT (id) DO NOTHING;
