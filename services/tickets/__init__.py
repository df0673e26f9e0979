"""The support desk: tickets, their conversation and their timeline.

- `desk`: opening a ticket, a customer writing, staff answering in the topic;
- `actions`: acknowledge, priority, assign, resolve, rate, close, auto-close, ban;
- `store`: SQL on the desk's tables; `briefs`: the tickets as other features read and raise
  them; `limits`: abuse limits on Redis; `render` / `render_customer`: pure renderers (and the
  desk's button families);
- `delivery`: the outbox hook for owner "ticket:<id>".
"""
