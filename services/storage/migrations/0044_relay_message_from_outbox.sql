-- A relayed message's copy is known by its outbox row (relay_outbox_id): the Telegram id of
-- the copy is that row's message_id once sent (services/tickets/history.messages reads it
-- there). Writing it here too took the delivery worker a transaction per copy (issue 15: three
-- round trips of four per customer message in a storm), and outbox rows are never deleted.
ALTER TABLE ticket_messages DROP COLUMN relay_message_id;

-- The message and its copy are written in one transaction, the message first with the id its
-- copy's row will have (taken from outbox_id_seq in the same statement): the reference is
-- checked at commit, when the row exists.
ALTER TABLE ticket_messages ALTER CONSTRAINT ticket_messages_relay_outbox_id_fkey
    DEFERRABLE INITIALLY DEFERRED;
