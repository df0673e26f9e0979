-- Alertmanager's webhook payloads as they arrived (issue 15): POST /api/alertmanager appends the
-- raw body here with one INSERT and answers; a consumer (services/alerts/inbox.py) folds pending
-- payloads, in arrival order, into `alerts` and `alert_groups` under an advisory lock, and stamps
-- them folded in the same transaction, so each payload is folded exactly once across replicas.
CREATE TABLE alert_inbox (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL,
    alerts      integer NOT NULL,                 -- how many alerts the payload carries
    payload     text NOT NULL,                    -- the body as received (checked JSON)
    folded_at   timestamptz,
    failed      text                              -- why PostgreSQL refused to fold it (kept)
);
CREATE INDEX alert_inbox_pending_idx ON alert_inbox (id) WHERE folded_at IS NULL;
CREATE INDEX alert_inbox_folded_idx ON alert_inbox (folded_at) WHERE folded_at IS NOT NULL;

-- Alertmanager's own fingerprint identifies its alerts from now on (it was the bot's hash of the
-- labels): alerts already stored take it, so their resolve still finds them.
UPDATE alerts a SET fingerprint = a.external_fingerprint
WHERE a.source = 'alertmanager'
  AND a.external_fingerprint ~ '^[0-9a-f]{16}$'
  AND a.fingerprint <> a.external_fingerprint
  AND NOT EXISTS (SELECT 1 FROM alerts b WHERE b.fingerprint = a.external_fingerprint);
