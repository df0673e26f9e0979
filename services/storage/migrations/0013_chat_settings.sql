-- One language per group chat (issue 13): everything the bot posts into a group, command
-- replies, alerts, job results and escalations alike, is in the chat's language. Set by an
-- admin with /language in the chat; a chat without a row speaks DEFAULT_LOCALE. A private
-- chat speaks its person's language (users.language), never a row here.
CREATE TABLE chat_settings (
    chat_id   bigint PRIMARY KEY,
    language  text NOT NULL CHECK (language IN ('id', 'en')),
    set_by    bigint,
    set_at    timestamptz NOT NULL DEFAULT now()
);
