"""Incident rooms: a forum topic per incident in the incidents chat (INCIDENT_CHAT_ID, else the
admin chat; without topics, threaded replies to one card), with a pinned live summary edited in
place, a lead and a comms person, status updates on a rhythm, and a timeline that writes itself.

- `config`: RULES_FILE `rooms:` and the context the assembly builds once;
- `store`: SQL on the rooms tables (migration 0030);
- `render`: the summary, the topic's name and the room's lines (pure);
- `room`: open a room, keep its summary current, recreate it when its topic was deleted;
- `actions`: /lead, /comms, /update, /note, 📌, /followup (permission table + audit);
- `delivery`: the outbox hook of rows owned by "room:<ticket id>";
- `sync`: the worker that opens rooms for new incidents, edits summaries, puts alerts on the
  timeline, reminds leads and drafts postmortems.

The timeline is the incident's ticket timeline (`services.tickets.briefs.add_event`).
"""
