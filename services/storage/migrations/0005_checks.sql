-- Health checks: every run of the probes, its results and numeric samples, so uptime,
-- trends and alert durations can be computed later (services/checks/store.py).
CREATE TABLE check_runs (
    id          bigserial PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    trigger     text NOT NULL DEFAULT 'manual',      -- 'health', 'cli', 'schedule', ...
    status      text NOT NULL CHECK (status IN ('ok', 'warn', 'crit', 'unknown'))
);
CREATE INDEX check_runs_started_idx ON check_runs (started_at);

CREATE TABLE check_results (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    name        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('ok', 'warn', 'crit', 'unknown')),
    at          timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    summary     text NOT NULL,               -- the sentence as rendered when stored
    sentence    jsonb NOT NULL,              -- {"msgid", "params"}: re-rendered per reader
    details     jsonb NOT NULL DEFAULT '[]',
    error       text
);
CREATE INDEX check_results_run_idx ON check_results (run_id);
CREATE INDEX check_results_name_at_idx ON check_results (name, at DESC);

CREATE TABLE check_samples (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    check_name  text NOT NULL,
    key         text NOT NULL,
    target      text NOT NULL DEFAULT '',
    value       double precision NOT NULL,
    unit        text NOT NULL
);
CREATE INDEX check_samples_run_idx ON check_samples (run_id);
CREATE INDEX check_samples_series_idx ON check_samples (check_name, key, target, at DESC);

-- Log analysis reads QuickCart's JSON log files incrementally: where it stopped in each file.
CREATE TABLE log_offsets (
    path        text PRIMARY KEY,
    device      bigint NOT NULL,
    inode       bigint NOT NULL,
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What the lines said, per minute: totals, errors, fraud and security events.
CREATE TABLE log_counts (
    minute      timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('line', 'error', 'fraud', 'security')),
    count       integer NOT NULL,
    PRIMARY KEY (minute, kind)
);

CREATE TABLE log_error_messages (
    minute      timestamptz NOT NULL,
    message     text NOT NULL,
    count       integer NOT NULL,
    PRIMARY KEY (minute, message)
);

-- Backup verifications: a checksum + table-of-contents verdict per archive, and restore
-- tests (written by the maintenance jobs). The backups probe and /backupstatus read them.
CREATE TABLE backup_verifications (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('checksum', 'restore_test')),
    archive      text NOT NULL,
    archive_size bigint NOT NULL,
    archive_mtime timestamptz NOT NULL,
    ok           boolean NOT NULL,
    verdict      text NOT NULL,              -- 'ok', 'mismatch', 'missing', 'unreadable', ...
    details      jsonb NOT NULL DEFAULT '{}',
    duration_ms  integer NOT NULL DEFAULT 0,
    triggered_by text
);
CREATE INDEX backup_verifications_archive_idx
    ON backup_verifications (archive, archive_size, archive_mtime, kind, at DESC);
CREATE INDEX backup_verifications_kind_at_idx ON backup_verifications (kind, at DESC);
