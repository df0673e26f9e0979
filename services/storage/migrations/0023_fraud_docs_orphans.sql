-- The monthly fraud model update (issue 20): each run's per-rule figures and, when enough new
-- labelled cases existed, the retraining command's result. The next run counts new cases from
-- the last retraining here.
CREATE TABLE fraud_model_updates (
    id            bigserial PRIMARY KEY,
    ran_at        timestamptz NOT NULL,
    since         timestamptz NOT NULL,
    until         timestamptz NOT NULL,
    labelled      integer NOT NULL,
    new_labelled  integer NOT NULL,
    report        jsonb NOT NULL,
    retrained     boolean NOT NULL DEFAULT false,
    retrain       jsonb                         -- status, exit_code, duration_s, output
);
CREATE INDEX fraud_model_updates_retrained_idx ON fraud_model_updates (ran_at)
    WHERE retrained;

-- The living documentation: the last generated metrics document, to post what changed.
CREATE TABLE doc_snapshots (
    name          text PRIMARY KEY,            -- metrics.md
    content       text NOT NULL,
    generated_at  timestamptz NOT NULL
);
