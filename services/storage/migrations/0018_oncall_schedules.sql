-- On-call schedules (issue 17): rotations, overrides, swaps, calendars, handoffs told.

-- A role's rotation, versioned: a version answers from effective_from until the next one, so an
-- edit from the chat never rewrites past shifts. The RULES_FILE rotation is the one `rules` row
-- of a role (rewritten at start); spec NULL: the rotation was removed from that instant on.
CREATE TABLE oncall_rotations (
    id             bigserial PRIMARY KEY,
    role           text NOT NULL,
    source         text NOT NULL CHECK (source IN ('rules', 'chat')),
    spec           jsonb,
    effective_from timestamptz NOT NULL,
    created_by     bigint,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX oncall_rotations_rules_idx ON oncall_rotations (role) WHERE source = 'rules';
-- "the versions of a role in order" and "is there any rotation at all"
CREATE INDEX oncall_rotations_role_idx ON oncall_rotations (role, effective_from, id);

-- Someone on call for a role over [starts_at, ends_at) whoever the rotation says.
CREATE TABLE oncall_overrides (
    id           bigserial PRIMARY KEY,
    role         text NOT NULL,
    user_id      bigint NOT NULL,
    replaces     bigint,                        -- who was scheduled (for the notices)
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    kind         text NOT NULL DEFAULT 'cover' CHECK (kind IN ('cover', 'swap')),
    swap_id      bigint,
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    CHECK (ends_at > starts_at)
);
-- the overrides a window of a role can see
CREATE INDEX oncall_overrides_role_idx ON oncall_overrides (role, ends_at)
    WHERE cancelled_at IS NULL;

-- A proposed swap of two whole shifts; both people accept with a button.
CREATE TABLE oncall_swaps (
    id            bigserial PRIMARY KEY,
    role          text NOT NULL,
    a_user        bigint NOT NULL,
    a_start       timestamptz NOT NULL,
    a_end         timestamptz NOT NULL,
    b_user        bigint NOT NULL,
    b_start       timestamptz NOT NULL,
    b_end         timestamptz NOT NULL,
    proposed_by   bigint NOT NULL,
    a_accepted_at timestamptz,
    b_accepted_at timestamptz,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'done', 'declined', 'expired')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Private calendar feeds (GET /oncall/<token>.ics): a person's shifts or a role's.
CREATE TABLE oncall_calendars (
    token      text PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('person', 'role')),
    subject    text NOT NULL,                  -- a user id or a role name
    owner_id   bigint NOT NULL,                -- who asked for the link
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX oncall_calendars_owner_idx ON oncall_calendars (owner_id) WHERE revoked_at IS NULL;

-- Each handoff told once, and each gap announced once (several replicas may scan).
CREATE TABLE oncall_events (
    role    text NOT NULL,
    at      timestamptz NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('handoff', 'gap_notice', 'gap_page')),
    told_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, at, kind)
);

-- How a person is reached for a page: Telegram at once, then after `after_minutes`
-- unacknowledged the secondary channel at their number; quiet hours hold P2/P3 back.
CREATE TABLE oncall_contacts (
    user_id       bigint PRIMARY KEY,
    phone         text,
    channel       text NOT NULL DEFAULT 'telegram' CHECK (channel IN ('telegram', 'sms', 'voice')),
    after_minutes integer NOT NULL DEFAULT 10 CHECK (after_minutes BETWEEN 1 AND 240),
    quiet_start   time,
    quiet_end     time,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A page waiting for its secondary channel: sent when due unless the incident was acknowledged.
CREATE TABLE oncall_followups (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL,
    ticket_id  bigint NOT NULL,
    priority   text NOT NULL,
    level      smallint NOT NULL,
    due_at     timestamptz NOT NULL,
    done_at    timestamptz,
    outcome    text,
    UNIQUE (user_id, ticket_id, level)
);
CREATE INDEX oncall_followups_due_idx ON oncall_followups (due_at) WHERE done_at IS NULL;

-- A rotation typed in the chat, waiting for the admin's Save under its preview.
CREATE TABLE oncall_drafts (
    id         bigserial PRIMARY KEY,
    role       text NOT NULL,
    spec       jsonb,                          -- NULL: the draft removes the rotation
    created_by bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);
