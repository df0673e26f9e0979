-- Alert routing and inhibition (issue 19). A group opened through RULES_FILE's routing tree
-- (`alerts.route`) names its receivers and carries its route's timings; a group opened without
-- a tree leaves them NULL and goes, as before, to the admin chat and its rule's channels with
-- the `grouping` section's timings.
ALTER TABLE alert_groups
    ADD COLUMN receivers       text[],
    ADD COLUMN group_wait      interval,
    ADD COLUMN group_interval  interval,
    ADD COLUMN repeat_interval interval;

-- The fingerprint of the firing alert that inhibits this one (`alerts.inhibit_rules`), NULL when
-- none does; kept up to date by every tick of the alert loop.
ALTER TABLE alerts ADD COLUMN inhibited_by text;
CREATE INDEX alerts_inhibited_idx ON alerts (inhibited_by) WHERE inhibited_by IS NOT NULL;
