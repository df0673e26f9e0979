-- Incident rooms (issue 18): a forum topic per incident (or one card with threaded replies
-- when the chat has no topics), its pinned live summary, its lead and comms person, its
-- rhythm of updates, the room messages people marked, follow-ups, and the postmortem.

-- pinChatMessage goes through the outbox like every other call to Telegram.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN (
    'text', 'photo', 'document', 'copy', 'edit', 'edit_markup',
    'create_topic', 'edit_topic', 'close_topic', 'reopen_topic', 'pin'));

CREATE TABLE incident_rooms (
    ticket_id          bigint PRIMARY KEY REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    chat_id            bigint NOT NULL,
    mode               text NOT NULL CHECK (mode IN ('topic', 'thread')),
    topic_outbox_id    bigint REFERENCES outbox (id),  -- the create_topic row of the topic
    topic_id           integer,                        -- message_thread_id once created
    topic_name         text,                           -- renamed when the severity changes
    summary_outbox_id  bigint REFERENCES outbox (id),  -- the live summary (thread mode: the card)
    summary_message_id bigint,
    summary_text       text,                           -- what it says now: edited only on change
    pinned_message_id  bigint,
    lead_id            bigint,
    comms_id           bigint,
    last_update_at     timestamptz,
    last_update_by     bigint,
    last_update_text   text,
    reminder_stage     smallint NOT NULL DEFAULT 0,    -- 0 none, 1 lead reminded, 2 next level
    recreated          integer NOT NULL DEFAULT 0,
    postmortem_at      timestamptz,                    -- the draft was posted (on resolve)
    created_at         timestamptz NOT NULL
);
-- A message in a topic -> its room.
CREATE UNIQUE INDEX incident_rooms_topic_idx ON incident_rooms (chat_id, topic_id)
    WHERE topic_id IS NOT NULL;
-- A reply to the card (no topics) -> its room.
CREATE INDEX incident_rooms_card_idx ON incident_rooms (chat_id, summary_message_id);

-- What people wrote in a room: a 📌 reaction names only the message, its text is here.
CREATE TABLE incident_room_messages (
    chat_id    bigint NOT NULL,
    message_id bigint NOT NULL,
    ticket_id  bigint NOT NULL REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    author_id  bigint,
    text       text NOT NULL,
    at         timestamptz NOT NULL,
    marked_at  timestamptz,                            -- put on the timeline (once)
    PRIMARY KEY (chat_id, message_id)
);

-- Action items of an incident (/followup); the weekly report counts them.
CREATE TABLE incident_followups (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    text       text NOT NULL,
    owner_id   bigint,
    owner_name text,                                   -- "@maya" as typed, when not on the roster
    created_by bigint,
    created_at timestamptz NOT NULL,
    done_at    timestamptz
);
CREATE INDEX incident_followups_open_idx ON incident_followups (created_at) WHERE done_at IS NULL;
CREATE INDEX incident_followups_ticket_idx ON incident_followups (ticket_id, id);

-- Alerts of an incident seen firing / resolved, so each goes on the timeline once.
CREATE TABLE incident_alert_marks (
    alert_id  bigint NOT NULL,
    state     text NOT NULL CHECK (state IN ('firing', 'resolved')),
    at        timestamptz NOT NULL,
    ticket_id bigint NOT NULL REFERENCES incidents (ticket_id) ON DELETE CASCADE,
    PRIMARY KEY (alert_id, state, at)
);
