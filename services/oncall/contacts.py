"""How a person is reached for a page (`/oncall notify`): a Telegram private message at once,
then, after N minutes unacknowledged, the SMS (or voice) webhook at their own number. Quiet
hours hold the second channel back for P2/P3 pages only; P0/P1 always go through.

The follow-ups are rows (oncall_followups) written with the page, in the same transaction, and
sent by the on-call worker when due unless the incident was acknowledged or resolved by then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from loguru import logger

from services.alerts import channels as alert_channels
from services.alerts.config import SmsChannel
from services.i18n import gettext as _
from services.oncall.model import SpecError, parse_clock
from services.storage.records import record, rowcount
from services.storage.types import Executor
from services.text import esc
from services.tickets.model import ticket_number

_PHONE = re.compile(r"^\+?[0-9]{8,15}$")
QUIET_PRIORITIES = frozenset({"P2", "P3"})


@dataclass(frozen=True)
class Contact:
    user_id: int
    phone: str | None
    channel: str  # telegram | sms | voice
    after_minutes: int
    quiet_start: time | None
    quiet_end: time | None

    def quiet_at(self, local: time) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end


async def get(db: Executor, user_id: int) -> Contact | None:
    row = await db.fetchrow("SELECT * FROM oncall_contacts WHERE user_id = $1", user_id)
    return None if row is None else record(Contact, row)


class ContactError(SpecError):
    pass


async def update_from_words(
    db: Executor, user_id: int, words: list[str], default_after: int
) -> None:
    """`telegram` | `sms <phone> [minutes]` | `voice <phone> [minutes]` | `quiet 22:00-07:00`
    | `quiet off`."""
    first = words[0].lower()
    current = await get(db, user_id)
    phone = current.phone if current else None
    channel = current.channel if current else "telegram"
    after = current.after_minutes if current else default_after
    quiet = (current.quiet_start, current.quiet_end) if current else (None, None)
    if first == "telegram":
        channel = "telegram"
    elif first in ("sms", "voice"):
        if len(words) < 2 or not _PHONE.match(words[1]):
            raise ContactError("bad_phone")
        channel, phone = first, words[1]
        if len(words) > 2:
            if not words[2].isdigit() or not 1 <= int(words[2]) <= 240:
                raise ContactError("bad_minutes")
            after = int(words[2])
    elif first == "quiet":
        if len(words) < 2:
            raise ContactError("usage")
        if words[1].lower() in ("off", "mati"):
            quiet = (None, None)
        else:
            span = words[1].split("-", 1)
            if len(span) != 2:
                raise ContactError("bad_time", words[1])
            quiet = (parse_clock(span[0]), parse_clock(span[1]))
    else:
        raise ContactError("usage")
    await db.execute(
        """
        INSERT INTO oncall_contacts (user_id, phone, channel, after_minutes, quiet_start, quiet_end)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (user_id) DO UPDATE SET phone = EXCLUDED.phone, channel = EXCLUDED.channel,
            after_minutes = EXCLUDED.after_minutes, quiet_start = EXCLUDED.quiet_start,
            quiet_end = EXCLUDED.quiet_end, updated_at = now()
        """,
        user_id, phone, channel, after, quiet[0], quiet[1],
    )  # fmt: skip


def describe(contact: Contact | None, default_after: int) -> str:
    lines = [_("<b>How you are reached for a page</b>")]
    if contact is None or contact.channel == "telegram":
        lines.append(_("Telegram private message only."))
    else:
        lines.append(
            _("Telegram at once; after {minutes} minutes unacknowledged, {channel} to {phone}.")
            .format(
                minutes=contact.after_minutes,
                channel=_("SMS") if contact.channel == "sms" else _("a voice call"),
                phone=esc(contact.phone or ""),
            )
        )  # fmt: skip
    if contact is not None and contact.quiet_start and contact.quiet_end:
        lines.append(
            _(
                "Quiet hours {start}–{end}: P2/P3 pages arrive silently, with no SMS or call; "
                "P0/P1 always ring."
            )
            .format(start=f"{contact.quiet_start:%H:%M}", end=f"{contact.quiet_end:%H:%M}")
        )  # fmt: skip
    lines.append(
        esc(
            _(
                "Change it: /oncall notify sms <+62…> [minutes], /oncall notify voice <+62…> "
                "[minutes], /oncall notify telegram, /oncall notify quiet 22:00-07:00 | off"
            )
        )
    )
    del default_after
    return "\n".join(lines)


async def quiet_now(db: Executor, user_id: int, priority: str, at: datetime, tz: ZoneInfo) -> bool:
    """A P2/P3 page inside the person's quiet hours (it arrives silently, with no SMS)."""
    if priority not in QUIET_PRIORITIES:
        return False
    contact = await get(db, user_id)
    return contact is not None and contact.quiet_at(at.astimezone(tz).time())


# --- follow-ups of pages -----------------------------------------------------------------------


async def plan_followup(
    db: Executor, *, user_id: int, ticket_id: int, priority: str, level: int, at: datetime,
    tz: ZoneInfo,
) -> bool:  # fmt: skip
    """After a page: the secondary channel falls due unless the person opted out or is in
    quiet hours for a P2/P3."""
    contact = await get(db, user_id)
    if contact is None or contact.channel == "telegram" or not contact.phone:
        return False
    if await quiet_now(db, user_id, priority, at, tz):
        return False
    status: str = await db.execute(
        """
        INSERT INTO oncall_followups (user_id, ticket_id, priority, level, due_at)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
        """,
        user_id, ticket_id, priority, level,
        at + timedelta(minutes=contact.after_minutes),
    )  # fmt: skip
    return rowcount(status) == 1


@dataclass(frozen=True)
class Followup:
    id: int
    user_id: int
    ticket_id: int
    priority: str
    level: int
    phone: str
    channel: str
    number: str  # the ticket's number as people know it
    subject: str


async def due_followups(db: Executor, now: datetime, limit: int = 50) -> list[Followup]:
    """Claimed for sending: each row is marked done here, in the caller's transaction."""
    rows = await db.fetch(
        """
        SELECT f.id, f.user_id, f.ticket_id, f.priority, f.level, c.phone, c.channel,
               i.acknowledged_at IS NOT NULL OR i.resolved_at IS NOT NULL AS settled,
               t.subject
        FROM oncall_followups f
        JOIN oncall_contacts c ON c.user_id = f.user_id
        LEFT JOIN incidents i ON i.ticket_id = f.ticket_id
        LEFT JOIN tickets t ON t.id = f.ticket_id
        WHERE f.done_at IS NULL AND f.due_at <= $1
        ORDER BY f.due_at LIMIT $2
        FOR UPDATE OF f SKIP LOCKED
        """,
        now,
        limit,
    )
    found: list[Followup] = []
    for row in rows:
        settled = bool(row["settled"]) or row["channel"] == "telegram" or not row["phone"]
        await db.execute(
            "UPDATE oncall_followups SET done_at = $2, outcome = $3 WHERE id = $1",
            row["id"], now, "settled" if settled else "sending",
        )  # fmt: skip
        if not settled:
            found.append(
                Followup(
                    row["id"], row["user_id"], row["ticket_id"], row["priority"], row["level"],
                    row["phone"], row["channel"], ticket_number(row["ticket_id"]),
                    row["subject"] or "",
                )
            )  # fmt: skip
    return found


async def send_followup(db: Executor, sms: SmsChannel | None, item: Followup, text: str) -> bool:
    """Post to the SMS/voice webhook at the person's number; the outcome is recorded."""
    if sms is None:
        outcome = "no_channel"
    else:
        config = sms.model_copy(update={"recipients": [item.phone]})
        try:
            if item.channel == "voice":
                await alert_channels._post(
                    config.url,
                    {"to": [item.phone], "text": text[: alert_channels.SMS_LIMIT], "kind": "voice"},
                    config.headers,
                    config.timeout_s,
                )
            else:
                await alert_channels.send_sms(config, text)
            outcome = "sent"
        except (Exception, TimeoutError) as exc:  # a failing provider is recorded, never raised
            logger.warning("on-call {} follow-up failed: {}", item.channel, type(exc).__name__)
            outcome = f"failed: {type(exc).__name__}"[:100]
    await db.execute("UPDATE oncall_followups SET outcome = $2 WHERE id = $1", item.id, outcome)
    return outcome == "sent"
