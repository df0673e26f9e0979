-- Every notification that matters is written here first, in the caller's transaction,
-- then sent by the delivery worker. Nothing accepted is lost.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    chat_id      bigint NOT NULL,
    thread_id    integer,                 -- forum topic (message_thread_id)
    thread_ref   bigint REFERENCES outbox (id),  -- take thread_id from this create_topic row
    ref_id       bigint REFERENCES outbox (id),  -- edit / reply to the message this row sent
    kind         text NOT NULL CHECK (kind IN (
                     'text', 'photo', 'document', 'copy', 'edit', 'edit_markup',
                     'create_topic', 'edit_topic', 'close_topic', 'reopen_topic')),
    payload      jsonb NOT NULL,          -- Bot API parameters (text, parse_mode, reply_markup...)
    dedup_key    text UNIQUE,             -- the same key is accepted once
    owner        text,                    -- 'ticket:42': results and permanent errors go back there
    coalesce_key text,                    -- same-kind notifications that may merge into a digest
    priority     smallint NOT NULL DEFAULT 5,  -- 0 first (P0 alerts) .. 9 last (reports)
    not_before   timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'coalesced')),
    attempts     integer NOT NULL DEFAULT 0,
    claimed_by   text,
    claimed_at   timestamptz,
    message_id   bigint,                  -- Telegram's id once sent (first part when split)
    result       jsonb,                   -- what Telegram answered (ids of all parts, topic id...)
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (not_before, priority, id) WHERE status = 'pending';
CREATE INDEX outbox_chat_order_idx ON outbox (chat_id, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_owner_idx ON outbox (owner) WHERE owner IS NOT NULL;
