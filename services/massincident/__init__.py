"""Mass incidents (issue 16): an incident declared customer-facing answers every matching
customer at once with a known-issue notice, links their messages to it (tickets of kind
'linked', no topic of their own), keeps one card per staff chat edited in place, and fans
status updates and the resolution out to every linked customer through the outbox.

- `model`: the customer-facing incident and its match (pure)
- `store`: its SQL (public_incidents, public_updates, linked tickets)
- `config`: what the feature needs (built once by the assembly)
- `render`: customer texts and the staff card (pure)
- `declare`: make an incident customer-facing, edit its notice and match
- `intake`: a customer's message: linked, a follow-up digest line, or left to the desk
- `fanout`: `/update` and the resolution to every linked customer
- `card`: the one card per staff chat, edited at most every few seconds
- `propose`: "12 payment tickets in 6 minutes: declare?"
- `delivery`: the outbox hook that counts a fan-out's sent and blocked rows
"""
