-- Storm view for alerts (issue 15): when more alert groups are due than the admin chat's send
-- budget can carry within the group wait, they are folded into one storm message, edited in
-- place as they change, instead of one message each.
CREATE TABLE alert_storms (
    id                bigserial PRIMARY KEY,
    chat_id           bigint NOT NULL,
    opened_at         timestamptz NOT NULL,
    last_joined_at    timestamptz NOT NULL,        -- a group joined: the storm is still going
    closed_at         timestamptz,                 -- quiet: takes no more groups
    ended_at          timestamptz,                 -- every group resolved: last edit queued
    outbox_id         bigint REFERENCES outbox (id), -- the storm message (edits point at it)
    dirty             boolean NOT NULL DEFAULT true,  -- to be rendered again
    acknowledged_by   bigint,
    acknowledged_name text,
    acknowledged_at   timestamptz
);
CREATE UNIQUE INDEX alert_storms_open_idx ON alert_storms (chat_id) WHERE closed_at IS NULL;
CREATE INDEX alert_storms_dirty_idx ON alert_storms (id) WHERE dirty;

-- The storm a group is shown in, instead of a message of its own in that chat.
ALTER TABLE alert_groups ADD COLUMN storm_id bigint REFERENCES alert_storms (id);
CREATE INDEX alert_groups_storm_idx ON alert_groups (storm_id) WHERE storm_id IS NOT NULL;
