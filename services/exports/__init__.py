"""Exports of the bot's configuration for the tools QuickCart already runs (Prometheus)."""
