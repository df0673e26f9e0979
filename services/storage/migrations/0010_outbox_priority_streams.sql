-- The delivery worker's claim (services/delivery/store.py): within a chat a more urgent row
-- overtakes the less urgent ones, rows of one priority keep their order. The claim skips through
-- this index from one (chat, priority) stream to the next and reads only each stream's head,
-- so its cost follows the number of streams, not the number of rows waiting (an alert storm
-- of 10,000 rows is one stream). It also serves every per-chat lookup of waiting rows, so it
-- replaces the (chat_id, id) index of 0002.
CREATE INDEX outbox_stream_idx ON outbox (chat_id, priority, id)
    WHERE status IN ('pending', 'sending');
DROP INDEX outbox_chat_order_idx;
