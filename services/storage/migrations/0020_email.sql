-- The e-mail channel (support@…): every message read from the mailbox is stored whole here
-- before it is flagged on the server (nothing a customer sent is lost, however it is judged),
-- the addresses customers write from, their attachments, and the replies waiting for SMTP.

-- A customer known by an e-mail address: a person of their own (an id from the range below,
-- far above any Telegram user id), or, once verified, their Telegram account (one history).
CREATE SEQUENCE email_customer_ids START 8000000000000000001;

CREATE TABLE email_addresses (
    address     text PRIMARY KEY,                    -- lower-cased
    user_id     bigint NOT NULL REFERENCES users (id),
    verified_at timestamptz,                         -- linked to a Telegram account by a code
    created_at  timestamptz NOT NULL
);
CREATE INDEX email_addresses_user_idx ON email_addresses (user_id);

-- Every message in both directions, raw. `status` of an incoming one: stored (not handled
-- yet), ticketed, ignored (a loop: auto-reply, bounce...), limited (a mail bomb), refused.
CREATE TABLE email_messages (
    id           bigserial PRIMARY KEY,
    direction    text NOT NULL CHECK (direction IN ('in', 'out')),
    message_id   text NOT NULL,                      -- the Message-ID header, <...>
    sender       text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    raw          bytea NOT NULL,
    status       text NOT NULL DEFAULT 'stored'
                 CHECK (status IN ('stored', 'ticketed', 'ignored', 'limited', 'refused',
                                   'pending', 'sent', 'failed')),
    reason       text,
    ticket_id    bigint REFERENCES tickets (id) ON DELETE SET NULL,
    recipient    text,                               -- out: whom it goes to
    attempts     integer NOT NULL DEFAULT 0,         -- out: SMTP attempts so far
    next_attempt_at timestamptz,                     -- out: when the next one may start
    last_error   text,
    tg_file_id   text,                               -- out: a file staff sent, attached when sent
    created_at   timestamptz NOT NULL,
    handled_at   timestamptz
);
-- The same message fetched twice (a crash between storing and flagging) is stored once.
CREATE UNIQUE INDEX email_messages_in_idx ON email_messages (message_id) WHERE direction = 'in';
-- A reply's In-Reply-To / References -> the ticket (either direction).
CREATE INDEX email_messages_message_id_idx ON email_messages (message_id);
-- The intake's and the sender's queues.
CREATE INDEX email_messages_stored_idx ON email_messages (id) WHERE status = 'stored';
CREATE INDEX email_messages_pending_idx ON email_messages (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX email_messages_ticket_idx ON email_messages (ticket_id, id);

-- Attachments kept for staff (size-limited); the raw message above holds them too.
CREATE TABLE email_attachments (
    id           bigserial PRIMARY KEY,
    email_id     bigint NOT NULL REFERENCES email_messages (id) ON DELETE CASCADE,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size         integer NOT NULL,
    data         bytea NOT NULL
);
CREATE INDEX email_attachments_email_idx ON email_attachments (email_id);
