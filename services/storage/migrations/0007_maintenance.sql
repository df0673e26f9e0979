-- Maintenance runs (services/maintenance/runs.py): one row per run of a scheduled job, claimed
-- before the work starts. The unique slot index is what makes a job run once per scheduled time
-- when several replicas fire it: the replica whose INSERT wins runs it, the others skip.
CREATE TABLE maintenance_runs (
    id            bigserial PRIMARY KEY,
    job           text NOT NULL,
    scheduled_for timestamptz,                  -- the slot (NULL for runs started by hand)
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'ok', 'warn', 'failed', 'skipped')),
    summary       text NOT NULL DEFAULT '',
    details       jsonb NOT NULL DEFAULT '{}',
    triggered_by  text NOT NULL,                -- 'scheduler', 'catch_up', 'staff', 'cli'
    actor_id      bigint,                       -- the staff member, when triggered by one
    claimed_by    text                          -- which process ran it
);
CREATE UNIQUE INDEX maintenance_runs_slot_idx ON maintenance_runs (job, scheduled_for)
    WHERE scheduled_for IS NOT NULL;
CREATE INDEX maintenance_runs_job_started_idx ON maintenance_runs (job, started_at DESC);
CREATE INDEX maintenance_runs_started_idx ON maintenance_runs (started_at);
