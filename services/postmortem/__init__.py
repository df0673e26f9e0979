"""Postmortem drafts: when a P0 or P1 resolves, a draft built from what the incident's timeline
recorded (services/postmortem/build.py), rendered as a message, Markdown and HTML
(render.py), posted in the incident's room (draft.py). `/postmortem` posts it again."""
