"""SQL of the proposals (public_signals, public_proposals, migration 0025): who wrote about
what lately, which customer-facing alerts fire, and the proposals made and decided."""

from __future__ import annotations

from datetime import datetime

from asyncpg import Record

from services.storage.statements import Table
from services.storage.types import Executor

_SIGNALS = Table("public_signals")
_PROPOSALS = Table("public_proposals")


async def firing_alerts(db: Executor, names: list[str]) -> list[str]:
    rows = await db.fetch(
        "SELECT DISTINCT alertname FROM alerts WHERE state = 'firing' AND alertname = ANY($1)",
        names,
    )
    return sorted(r["alertname"] for r in rows)


async def customers_by_category(db: Executor, since: datetime) -> dict[str, int]:
    """Distinct customers per category since then: new tickets, and messages of customers with
    no ticket that no incident matched (public_signals)."""
    rows = await db.fetch(
        """
        SELECT category, count(DISTINCT customer_id) AS n FROM (
            SELECT category, customer_id FROM tickets
            WHERE created_at >= $1 AND kind = 'normal' AND channel IN ('bot', 'email')
              AND customer_id > 0
            UNION ALL
            SELECT category, customer_id FROM public_signals WHERE at >= $1
        ) x GROUP BY category
        """,
        since,
    )
    return {r["category"]: r["n"] for r in rows}


async def add_signal(db: Executor, customer_id: int, category: str, at: datetime) -> None:
    await _SIGNALS.insert(db, customer_id=customer_id, category=category, at=at)


async def forget_signals(db: Executor, before: datetime) -> None:
    await db.execute("DELETE FROM public_signals WHERE at < $1", before)


async def insert_proposal(
    db: Executor,
    *,
    category: str,
    window_start: datetime,
    tickets: int,
    alert: str | None,
    title: str,
    now: datetime,
) -> int | None:
    value: int | None = await db.fetchval(
        """INSERT INTO public_proposals (category, window_start, tickets, alert, title, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id""",
        category,
        window_start,
        tickets,
        alert,
        title,
        now,
    )
    return value


async def recent_proposal(db: Executor, category: str, since: datetime) -> bool:
    return await _PROPOSALS.exists(db, "category = $1 AND created_at >= $2", category, since)


async def proposal(db: Executor, proposal_id: int, *, lock: bool = False) -> Record | None:
    row: Record | None = await db.fetchrow(
        "SELECT * FROM public_proposals WHERE id = $1" + (" FOR UPDATE" if lock else ""),
        proposal_id,
    )
    return row


async def decide_proposal(
    db: Executor, proposal_id: int, by: int, now: datetime, incident: int
) -> None:
    await _PROPOSALS.update(db, proposal_id, decided_by=by, decided_at=now, incident_id=incident)
