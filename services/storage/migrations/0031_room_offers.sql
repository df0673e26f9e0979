-- Incident rooms, the rest of issue 18: a room `/update` on a customer-facing incident is
-- offered for the affected customers (sent once, by a person allowed to), and the room's
-- forum topic is closed when the incident is resolved (reopened if it is reopened).

-- When the close (or NULL after a reopen) was queued: the rooms worker queues each once.
ALTER TABLE incident_rooms ADD COLUMN topic_closed_at timestamptz;

-- "Send to N customers" / "Internal only" under a room update: one decision per offer, taken
-- in the transaction that fans the update out, so a second press finds it taken.
CREATE TABLE incident_room_offers (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    text        text NOT NULL,
    offered_by  bigint,
    offered_at  timestamptz NOT NULL,
    customers   integer NOT NULL,                    -- linked and reachable when offered
    outbox_id   bigint REFERENCES outbox (id),       -- the offer's message, edited once decided
    decision    text CHECK (decision IN ('sent', 'internal')),
    decided_by  bigint,
    decided_at  timestamptz,
    sent_to     integer,                             -- queued to customers on Send
    blocked     integer,                             -- linked but blocked the bot
    update_id   bigint                               -- the public_updates row it became
);
CREATE INDEX incident_room_offers_ticket_idx ON incident_room_offers (ticket_id, id);
