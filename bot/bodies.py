"""A request body read with a ceiling, for the bot's own HTTP endpoints.

aiohttp's `client_max_size` is one limit for the whole app; each endpoint has its own (1 MiB for
Alertmanager and the pings, 64 KiB for the emergency line). `Content-Length` is checked first,
then the bytes as they arrive, so a body without a length (chunked) cannot go past the ceiling
either.
"""

from __future__ import annotations

from aiohttp import web

CHUNK = 64 * 1024


async def read_body(
    request: web.Request, limit: int, *, keep: int | None = None
) -> tuple[bytes, int] | None:
    """The body's first `keep` bytes (all of them when `keep` is None) and its whole size, or
    None when it is larger than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    kept = bytearray()
    size = 0
    while chunk := await request.content.read(CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        if keep is None:
            kept += chunk
        elif len(kept) < keep:
            kept += chunk[: keep - len(kept)]
    return bytes(kept), size
