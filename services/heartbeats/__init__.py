"""Heartbeats: Healthchecks-style checks that cron jobs ping; a silent job is an alert."""
