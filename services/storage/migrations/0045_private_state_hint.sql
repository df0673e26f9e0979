-- Whether a person may have a conversation state (aiogram's FSM, in Redis) in their private
-- chat with the bot (bot/fsm.py). False: they have none, and the Redis read before each of
-- their updates is skipped (a storm's customer messages: one round trip of six). The storage
-- sets it before it writes a state and clears it after it removes one, so false is never
-- wrong. People met before this migration may have a state: true until a read finds none.
ALTER TABLE users ADD COLUMN private_state boolean NOT NULL DEFAULT true;
ALTER TABLE users ALTER COLUMN private_state SET DEFAULT false;
