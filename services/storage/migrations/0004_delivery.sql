-- Delivery worker state beside the outbox (0002): who holds a row, digests of storms.

-- A worker holds a session-level advisory lock on `claimed_lock` while it lives; a row in
-- 'sending' whose lock nobody holds belongs to a dead worker and goes back to 'pending'.
ALTER TABLE outbox ADD COLUMN claimed_lock bigint;
-- Parts of a long text already sent (a resend after a crash continues from here).
ALTER TABLE outbox ADD COLUMN parts_sent integer NOT NULL DEFAULT 0;
-- Why a row failed: forbidden, chat_not_found, thread_not_found, message_not_found,
-- bad_request, max_age ... (last_error keeps Telegram's words).
ALTER TABLE outbox ADD COLUMN failure text;

-- One digest message per storm: the coalesced rows point at it, and it is edited as more
-- arrive until `rendered_items` catches up with `items`.
CREATE TABLE outbox_digests (
    id             bigserial PRIMARY KEY,
    chat_id        bigint NOT NULL,
    thread_id      integer,
    coalesce_key   text NOT NULL,
    items          integer NOT NULL DEFAULT 0,
    rendered_items integer NOT NULL DEFAULT 0,
    message_id     bigint,
    opened_at      timestamptz NOT NULL,
    last_item_at   timestamptz NOT NULL,
    last_render_at timestamptz,
    render_lease   timestamptz,          -- a worker is sending / editing it until then
    last_error     text
);
CREATE INDEX outbox_digests_open_idx ON outbox_digests (chat_id, coalesce_key, last_item_at);
CREATE INDEX outbox_digests_dirty_idx ON outbox_digests (id) WHERE rendered_items < items;

ALTER TABLE outbox ADD COLUMN digest_id bigint REFERENCES outbox_digests (id);
CREATE INDEX outbox_digest_items_idx ON outbox (digest_id, id) WHERE digest_id IS NOT NULL;
CREATE INDEX outbox_sending_idx ON outbox (claimed_lock) WHERE status = 'sending';
