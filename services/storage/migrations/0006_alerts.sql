-- Alerting (services/alerts): one row per alert (identified by the fingerprint of its labels),
-- alert groups with their Telegram messages, silences and maintenance windows.

-- A group: the alerts sharing a rule and the chosen labels, shown as one message per chat.
CREATE TABLE alert_groups (
    id                bigserial PRIMARY KEY,
    group_key         text NOT NULL,                 -- alertname + group_by label values
    labels            jsonb NOT NULL,                -- the labels the group is keyed by
    severity          text NOT NULL,
    channels          text[] NOT NULL DEFAULT '{telegram}',
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at        timestamptz NOT NULL,
    next_flush_at     timestamptz,                   -- group_wait / group_interval elapse here
    last_flushed_at   timestamptz,
    last_notified_at  timestamptz,                   -- a message was sent (repeat_interval)
    notified_firing   text[] NOT NULL DEFAULT '{}',  -- fingerprints shown firing at last push
    acknowledged_by   bigint,
    acknowledged_name text,
    acknowledged_at   timestamptz,
    incident_id       bigint,
    escalated_by      bigint,
    escalated_at      timestamptz,
    silence_id        bigint,                        -- the silence set from this message
    resolved_at       timestamptz
);
CREATE UNIQUE INDEX alert_groups_open_key_idx ON alert_groups (group_key) WHERE status = 'open';
CREATE INDEX alert_groups_flush_idx ON alert_groups (next_flush_at) WHERE status = 'open';

-- The Telegram messages of a group: the outbox row that sent each (edits point at it).
CREATE TABLE alert_group_messages (
    group_id   bigint NOT NULL REFERENCES alert_groups (id) ON DELETE CASCADE,
    chat_id    bigint NOT NULL,
    outbox_id  bigint NOT NULL REFERENCES outbox (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, chat_id, outbox_id)
);

CREATE TABLE alerts (
    id             bigserial PRIMARY KEY,
    fingerprint    text NOT NULL UNIQUE,
    source         text NOT NULL CHECK (source IN ('rule', 'alertmanager', 'manual')),
    alertname      text NOT NULL,
    labels         jsonb NOT NULL,
    annotations    jsonb NOT NULL DEFAULT '{}',
    severity       text NOT NULL DEFAULT 'warning',
    state          text NOT NULL CHECK (state IN ('inactive', 'pending', 'firing', 'resolved')),
    value          double precision,
    threshold      double precision,
    comparison     text,
    active_since   timestamptz,                      -- condition true since (pending began)
    fired_at       timestamptz,
    resolved_at    timestamptz,
    ends_at        timestamptz,                      -- Alertmanager's endsAt
    evaluated_at   timestamptz,
    generator_url  text,
    runbook_url    text,
    external_fingerprint text,                       -- Alertmanager's own fingerprint
    group_id       bigint REFERENCES alert_groups (id),
    resolved_by    bigint,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_state_idx ON alerts (state) WHERE state IN ('pending', 'firing');
CREATE INDEX alerts_group_idx ON alerts (group_id);
CREATE INDEX alerts_alertname_idx ON alerts (alertname);

-- Silences: Alertmanager matchers (name, op, value) over a time range.
CREATE TABLE alert_silences (
    id          bigserial PRIMARY KEY,
    matchers    jsonb NOT NULL,                      -- [{"name", "op", "value"}]
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    created_by  bigint,
    created_name text,
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expired_by  bigint,
    expired_at  timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX alert_silences_active_idx ON alert_silences (ends_at) WHERE expired_at IS NULL;

-- Maintenance windows: alerts are recorded, not pushed; a summary is posted at the end.
CREATE TABLE maintenance_windows (
    id              bigserial PRIMARY KEY,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    reason          text NOT NULL DEFAULT '',
    created_by      bigint,
    created_name    text,
    created_at      timestamptz NOT NULL,
    stopped_by      bigint,
    stopped_at      timestamptz,
    summary_sent_at timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_open_idx ON maintenance_windows (ends_at)
    WHERE summary_sent_at IS NULL;

-- What a window muted: each alert once, with when it was first held back.
CREATE TABLE maintenance_muted (
    window_id   bigint NOT NULL REFERENCES maintenance_windows (id) ON DELETE CASCADE,
    alert_id    bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    first_at    timestamptz NOT NULL,
    PRIMARY KEY (window_id, alert_id)
);
