"""Alerting: rules and their evaluation, Alertmanager's webhook, groups, silences, maintenance.

Modules: `durations`, `matchers` (Alertmanager syntax), `config` (RULES_FILE section `alerts`),
`evaluation` (pure Prometheus state machine), `sources` (metric sources), `store` (SQL),
`engine` (evaluate rules), `alertmanager` (webhook v4 model + ingest), `dispatch` (when groups
are pushed), `outbound` (queues group messages and maintenance summaries), `render` (pure
message renderers), `silences`, `actions` (buttons and commands), `channels` (email, Slack, SMS).
"""
