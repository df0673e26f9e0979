-- Find the outbox row that posted a given Telegram message: a staff reply in a support chat
-- without topics names the message it answers, which may be any part of a long customer text
-- (services/tickets/repo.py by_bot_message).
CREATE INDEX outbox_sent_message_idx ON outbox (chat_id, message_id) WHERE message_id IS NOT NULL;
