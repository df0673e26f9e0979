"""The durable front door: Telegram updates are stored before they are acknowledged.

`store` holds the SQL, `conversation` says which ordered stream an update belongs to,
`worker` hands stored updates to the dispatcher one conversation at a time.
"""
