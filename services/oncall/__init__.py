"""On-call schedules: rotations with layers, overrides and swaps, handoffs, calendars.

`model` holds the records and the RULES_FILE `oncall:` section, `schedule` the pure arithmetic
(who is on call at an instant, the shifts over a range), `store` the tables, `lookup` the one
question the escalation tree asks ("who answers for level N now?"), `actions` the changes people
make from the chat, `handoffs` the scan that tells people their shift starts or ends, `ics` the
calendar feed and `render` the texts.
"""
