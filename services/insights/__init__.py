"""Insights: how incidents and support went over a period (`/insights [30d]`, the monthly
report): MTTA and MTTR per severity and per level, incidents per week, pages per person,
ticket SLA attainment per priority and per channel, CSAT, follow-ups."""
