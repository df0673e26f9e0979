-- One ordered stream per conversation, not per chat (issue 15): a forum topic is its own
-- conversation, so several workers (and replicas) can send into one support group at once,
-- each topic still in order; Telegram's per-group budget binds through the shared limiter.
--
-- topic_key names the conversation within its chat:
--   0        the chat itself (a private chat, a group without topics, a forum's general chat)
--   > 0      the forum topic with that message_thread_id
--   < 0      a topic still being created: minus the id of its create_topic row. When that row
--            is sent, the rows waiting for it move to the topic's id in the same transaction
--            (services/delivery/store.py), before anyone can enqueue with the new id, so the
--            topic reads in the order its rows were written.
ALTER TABLE outbox ADD COLUMN topic_key bigint NOT NULL DEFAULT 0;
UPDATE outbox SET topic_key = coalesce(thread_id, -thread_ref, 0)
WHERE status IN ('pending', 'sending') AND (thread_id IS NOT NULL OR thread_ref IS NOT NULL);

-- The claim skips through this index from one (chat, topic, priority) stream to the next and
-- reads each stream's head only: its cost follows the streams it looks at, never the rows that
-- wait in them. 0010's (chat_id, priority, id) index stays for what concerns a whole chat
-- (a more urgent row of the chat, its backlog, a supergroup migration).
CREATE INDEX outbox_conversation_idx ON outbox (chat_id, topic_key, priority, id)
    WHERE status IN ('pending', 'sending');

-- Rows that wait for another row to be sent (their topic, the message they edit): found when
-- that row is sent, so their conversations are woken at once instead of by the next poll.
CREATE INDEX outbox_waits_for_topic_idx ON outbox (thread_ref)
    WHERE thread_ref IS NOT NULL AND status = 'pending';
CREATE INDEX outbox_waits_for_message_idx ON outbox (ref_id)
    WHERE ref_id IS NOT NULL AND status = 'pending';
