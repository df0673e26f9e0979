-- The durable front door: every Telegram update is stored here before its offset is
-- confirmed (polling) or the webhook answers 200, and is handled from here. One
-- conversation (a private chat, a forum topic) is handled one update at a time, in
-- update_id order, by whichever replica claims its oldest unfinished row.
CREATE TABLE inbox (
    update_id    bigint PRIMARY KEY,
    conversation text NOT NULL,
    payload      jsonb NOT NULL,
    -- pending: waiting to be handled; processing: claimed under a lease; done: handled;
    -- throttled: refused at intake (a flood), kept, its sender not told yet; refused: told
    -- (handed_at: when its text was handed to staff);
    -- failed: a bug kept failing it, kept for a person to look at.
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'processing', 'done', 'throttled', 'refused',
                                  'failed')),
    received_at  timestamptz NOT NULL DEFAULT now(),
    not_before   timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz,
    owner        text,
    owner_lock   bigint,  -- the advisory lock its owner holds while alive
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    handled_at   timestamptz,
    handed_at    timestamptz
);
-- What is waiting, oldest first (claims), and each conversation's queue (order, floods).
CREATE INDEX inbox_open_idx ON inbox (update_id) WHERE state IN ('pending', 'processing');
CREATE INDEX inbox_conversation_idx ON inbox (conversation, update_id)
    WHERE state IN ('pending', 'processing');
CREATE INDEX inbox_recent_idx ON inbox (conversation, received_at);
CREATE INDEX inbox_flood_idx ON inbox (conversation, update_id)
    WHERE state = 'throttled' OR (state = 'refused' AND handed_at IS NULL);
CREATE INDEX inbox_handled_idx ON inbox (handled_at) WHERE state = 'done';

-- The inbox de-duplicates by update_id now; the old claim table has no reader.
DROP TABLE processed_updates;
