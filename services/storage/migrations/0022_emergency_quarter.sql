-- The emergency line (issue 20): every call, from `/sos` or the provider's signed webhook, is
-- stored before anyone is paged; its incident is paged on all levels at once and again every
-- few minutes until someone acknowledges.
CREATE TABLE emergency_calls (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL,
    source          text NOT NULL CHECK (source IN ('sos', 'webhook')),
    caller          text NOT NULL,            -- a name, a phone number
    caller_id       bigint,                   -- the staff member of a /sos
    message         text NOT NULL,
    provider_ref    text UNIQUE,              -- the provider's call/message id: a retry is one call
    payload         jsonb NOT NULL DEFAULT '{}',
    ticket_id       bigint REFERENCES tickets (id) ON DELETE SET NULL,
    pages           integer NOT NULL DEFAULT 0, -- rounds of paging done
    next_page_at    timestamptz,                -- NULL: acknowledged, resolved or done
    breach_told_at  timestamptz                 -- the 30-minute resolution target missed, told
);
CREATE INDEX emergency_calls_next_page_idx ON emergency_calls (next_page_at)
    WHERE next_page_at IS NOT NULL;

-- Quarterly deep maintenance: one checklist per quarter, its tasks ticked off with evidence.
CREATE TABLE quarter_tasks (
    id              bigserial PRIMARY KEY,
    quarter         text NOT NULL,            -- 2026Q1
    key             text NOT NULL,            -- the task's key in RULES_FILE
    focus           text NOT NULL,
    title           text NOT NULL,
    owner_role      text NOT NULL,
    created_at      timestamptz NOT NULL,
    done_at         timestamptz,
    done_by         bigint,
    evidence_note   text,
    evidence_file   text,                     -- a Telegram file_id
    evidence_kind   text,                     -- document, photo
    evidence_name   text,                     -- the file's name as sent
    reminded_at     timestamptz,
    UNIQUE (quarter, key)
);
CREATE INDEX quarter_tasks_open_idx ON quarter_tasks (quarter) WHERE done_at IS NULL;

-- One quarterly report per quarter: when its last task is ticked, or when the quarter ends.
CREATE TABLE quarter_reports (
    quarter   text PRIMARY KEY,
    sent_at   timestamptz NOT NULL,
    reason    text NOT NULL                   -- complete, quarter_end
);
