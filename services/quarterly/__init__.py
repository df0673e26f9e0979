"""Quarterly deep maintenance: the seed's Q1–Q4 table as one checklist per quarter."""
