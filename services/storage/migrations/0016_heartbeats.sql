-- Heartbeats (issue 19, services/heartbeats): Healthchecks-style checks that a job pings.
-- A check is `new` until its first ping, `up` after a success, `down` after a failure or when
-- no ping came within its period (or cron schedule) plus grace, `paused` by hand. "late" (past
-- the period, inside the grace) is worked out when shown, from `last_ping`.
CREATE TABLE heartbeats (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    ping_key        uuid NOT NULL UNIQUE,           -- the secret of /ping/<uuid>
    kind            text NOT NULL CHECK (kind IN ('simple', 'cron')),
    period          interval,                       -- kind simple
    schedule        text,                           -- kind cron: five fields, in `tz`
    tz              text NOT NULL,
    grace           interval NOT NULL,
    severity        text NOT NULL DEFAULT 'warning',
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'up', 'down', 'paused')),
    down_reason     text,                           -- 'fail' (a fail ping) or 'missed'
    last_ping       timestamptz,                    -- the last success or fail ping
    last_start      timestamptz,                    -- a start ping not yet followed by an end
    last_duration   interval,                       -- start -> the success or fail after it
    last_kind       text,                           -- success | fail | start
    last_exit_status integer,
    last_body       text,                           -- the newest ping's body (the log)
    alert_after     timestamptz,                    -- goes down at (the scan's index)
    n_pings         bigint NOT NULL DEFAULT 0,
    n_rate_limited  bigint NOT NULL DEFAULT 0,      -- pings applied but not kept in the log
    source          text NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'rules')),
    created_by      bigint,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((kind = 'simple' AND period IS NOT NULL) OR (kind = 'cron' AND schedule IS NOT NULL))
);
CREATE INDEX heartbeats_due_idx ON heartbeats (alert_after) WHERE alert_after IS NOT NULL;

-- The ping log: the newest pings of each check (older ones are pruned).
CREATE TABLE heartbeat_pings (
    id            bigserial PRIMARY KEY,
    heartbeat_id  bigint NOT NULL REFERENCES heartbeats (id) ON DELETE CASCADE,
    received_at   timestamptz NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('success', 'start', 'fail')),
    exit_status   integer,
    method        text NOT NULL,
    remote_addr   text,
    user_agent    text,
    body          text NOT NULL DEFAULT '',
    body_size     integer NOT NULL DEFAULT 0,        -- bytes received, before truncation
    duration      interval
);
CREATE INDEX heartbeat_pings_check_idx ON heartbeat_pings (heartbeat_id, id DESC);

-- A heartbeat that goes down is an alert of the normal pipeline.
ALTER TABLE alerts DROP CONSTRAINT alerts_source_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_source_check
    CHECK (source IN ('rule', 'alertmanager', 'manual', 'heartbeat'));
