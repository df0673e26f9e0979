"""The support desk: tickets, their conversation and their timeline.

- `desk`: opening a ticket, a customer writing, staff answering in the topic;
- `actions`: acknowledge, priority, assign, resolve, rate, close, auto-close, ban;
- `repo`: SQL; `limits`: abuse limits on Redis; `render` / `render_customer`: pure renderers;
- `delivery`: the outbox hook for owner "ticket:<id>".
"""
