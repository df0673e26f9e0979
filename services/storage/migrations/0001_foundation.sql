-- People the bot talks to, their language, and what they may do.
CREATE TABLE users (
    id           bigint PRIMARY KEY,              -- Telegram user id
    first_name   text NOT NULL DEFAULT '',
    last_name    text,
    username     text,
    language     text,                            -- 'id' | 'en'; NULL until chosen
    banned_until timestamptz,                     -- set by /ban; NULL = allowed
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    user_id      bigint PRIMARY KEY,
    display_name text NOT NULL,
    roles        text[] NOT NULL DEFAULT '{}',
    on_call      boolean NOT NULL DEFAULT false,
    added_by     bigint,
    added_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_roles_idx ON staff USING gin (roles);

-- Every privileged action and every refusal: the weekly security review reads this.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor_id  bigint,
    chat_id   bigint,
    action    text NOT NULL,
    target    text,
    allowed   boolean NOT NULL,
    details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);

-- Update de-duplication: an update id is handled once even when delivered twice.
CREATE TABLE processed_updates (
    update_id   bigint PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_updates_received_idx ON processed_updates (received_at);
