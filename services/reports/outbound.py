"""The one module that queues reports: the headline message, then the HTML file, for the chat
that asked or the admin chat."""

from __future__ import annotations

import base64

from services import outbox
from services.reports.render import RenderedReport
from services.storage.types import Executor


async def send(
    db: Executor,
    chat_id: int,
    report: RenderedReport,
    *,
    dedup: str | None = None,
    with_file: bool = True,
) -> list[int | None]:
    """Two outbox rows: the headline (HTML text) and the report as a document."""
    text_id = await outbox.send_text(
        db,
        chat_id,
        {"text": report.headline, "parse_mode": "HTML"},
        dedup_key=f"{dedup}:text" if dedup else None,
        owner="report",
        priority=outbox.PRIORITY_REPORT,
    )
    if not with_file:
        return [text_id]
    doc_id = await outbox.enqueue(
        db,
        outbox.OutboxMessage(
            chat_id=chat_id,
            kind="document",
            payload={
                "document": {
                    "base64": base64.b64encode(report.html.encode("utf-8")).decode("ascii"),
                    "filename": report.filename,
                },
            },
            dedup_key=f"{dedup}:document" if dedup else None,
            owner="report",
            priority=outbox.PRIORITY_REPORT,
        ),
    )
    return [text_id, doc_id]
