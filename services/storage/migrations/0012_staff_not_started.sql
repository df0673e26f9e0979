-- Telegram refuses a bot's private message to someone who never wrote to it ("bot can't
-- initiate conversation with a user", issue 13). Set when that happened to a staff member: their
-- pages go to the admin chat instead until they write to the bot in private (pressing Start).
ALTER TABLE staff ADD COLUMN not_started_at timestamptz;
