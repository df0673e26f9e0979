"""A mail the desk refuses is never refused in silence. Too large, a mail bomb, unreadable, an
auto-reply or bounce (a loop), no sender, a banned sender: each one is

- audited (`email.refused`, the sender as target, the kind and the reason in details),
- answered, where that is safe: never a machine (auto-replies, bounces, lists: answering them
  is how loops start), never a banned sender, and at most once an hour per address whatever
  the reason (a mail bomb is not answered by one of ours per message), in the sender's
  language (theirs when the address is a known customer, else guessed from what they wrote
  and what their mail client says),
- counted for staff: one notice in the support group per hour, edited in place as more come
  (at most every `EDIT_SECONDS`), so a storm of a thousand refused mails is one message with
  counts by kind and the busiest senders, not a thousand messages.

Everything runs in the caller's transaction, the one that marks the stored message: the
verdict, its audit entry, the answer and the staff notice commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from prometheus_client import Counter
from redis.asyncio import Redis

from services import audit, outbox, users
from services.email import compose, replies, store
from services.email.config import EmailConfig
from services.email.parse import guess_language
from services.i18n import gettext as _
from services.i18n import use_locale
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage
from services.storage.types import Executor
from services.text import esc, shorten
from services.tickets import outbound as desk_outbound
from services.tickets.config import DeskConfig

Kind = Literal["too_large", "bomb", "unreadable", "loop", "no_sender", "banned", "error"]
# Kinds answered (when the sender is a person): what they can do about it is in the answer.
ANSWERED: frozenset[str] = frozenset({"too_large", "bomb", "unreadable"})
ACTION = "email.refused"
OWNER = "email:refused"  # the staff notice's outbox rows
WINDOW = timedelta(hours=1)  # one staff notice per hour, edited in place
EDIT_SECONDS = 30  # at most one edit of it per this many seconds in a storm
ANSWER_KEY = "qc:email:told:{sender}:{hour}"  # one answer per sender per clock hour
TOP_SENDERS = 5
REFUSED = Counter(
    "qc_email_refused_total", "E-mails the desk refused, by kind and whether answered",
    ["kind", "answered"],
)  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    """Why a stored mail made no ticket, and what is known of its sender."""

    kind: Kind
    reason: str
    sender: str = ""
    subject: str = ""
    automatic: bool = False  # a machine sent it: never answered
    text: str = ""  # what could be read of it (for the language guess)
    language: str | None = None  # the mail's own header hint, or the customer's language


async def record(
    db: Executor, redis: Redis, cfg: DeskConfig, ecfg: EmailConfig, now: datetime,
    email_id: int, refusal: Refusal,
) -> bool:  # fmt: skip
    """Audit, answer (when safe) and count one refused mail; True when the sender is answered."""
    answered = await _answer(db, redis, cfg, ecfg, now, refusal)
    await audit.record(
        db, actor_id=None, action=ACTION, allowed=False, target=refusal.sender or None,
        details={"email_id": email_id, "kind": refusal.kind, "reason": refusal.reason[:300],
                 "answered": answered}, at=now,
    )  # fmt: skip
    await tell_staff(db, cfg, now)
    REFUSED.labels(refusal.kind, "yes" if answered else "no").inc()
    return answered


def may_answer(refusal: Refusal, ecfg: EmailConfig) -> bool:
    """Safe to answer: a person's address (not ours, not a machine's) and a kind they can fix."""
    return (
        refusal.kind in ANSWERED
        and not refusal.automatic
        and "@" in refusal.sender
        and refusal.sender != ecfg.address
    )


async def _answer(
    db: Executor, redis: Redis, cfg: DeskConfig, ecfg: EmailConfig, now: datetime,
    refusal: Refusal,
) -> bool:  # fmt: skip
    if not may_answer(refusal, ecfg):
        return False
    hour = int(now.timestamp() // 3600)
    key = ANSWER_KEY.format(sender=refusal.sender, hour=hour)
    if not await redis.set(key, 1, nx=True, ex=7200):
        return False  # told within this hour already
    language = await _language(db, refusal, cfg.staff_locale)
    with use_locale(language):
        subject = compose.reply_subject_plain(refusal.subject)
        text = _answer_text(refusal.kind, ecfg)
    await replies.notice(db, recipient=refusal.sender, subject=subject, text=text, now=now)
    return True


def _answer_text(kind: str, ecfg: EmailConfig) -> str:
    if kind == "too_large":
        return compose.too_large(ecfg.max_message_bytes // (1024 * 1024))
    if kind == "bomb":
        return compose.slow_down()
    return compose.unreadable()


async def _language(db: Executor, refusal: Refusal, default: str) -> str:
    """The customer's own language when the address is known, else the guess from their words,
    the mail client's header deciding when the words do not."""
    user_id = await store.customer_of(db, refusal.sender)
    if user_id is not None:
        person = await users.get(db, user_id)
        if person is not None and person.language:
            return person.language
    hint = refusal.language or default
    return guess_language(f"{refusal.subject}\n{refusal.text}", hint)


# the staff notice ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    by_kind: dict[str, int]
    senders: list[tuple[str, int]]  # the busiest first
    answered: int

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


async def tally(db: Executor, since: datetime) -> Tally:
    rows = await db.fetch(
        """
        SELECT details->>'kind' AS kind, coalesce(target, '') AS sender, count(*) AS n,
               count(*) FILTER (WHERE (details->>'answered')::boolean) AS answered
        FROM audit_log WHERE action = $1 AND at >= $2
        GROUP BY 1, 2
        """,
        ACTION,
        since,
    )
    by_kind: dict[str, int] = {}
    senders: dict[str, int] = {}
    for r in rows:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["n"]
        if r["sender"]:
            senders[r["sender"]] = senders.get(r["sender"], 0) + r["n"]
    busiest = sorted(senders.items(), key=lambda item: (-item[1], item[0]))
    return Tally(by_kind, busiest, sum(r["answered"] for r in rows))


def kind_label(kind: str) -> str:
    labels = {
        "too_large": _("too large"),
        "bomb": _("too many from one sender (mail bomb)"),
        "unreadable": _("unreadable"),
        "loop": _("automatic (auto-reply, bounce, list: never answered)"),
        "no_sender": _("no sender address"),
        "banned": _("banned sender"),
        "error": _("the desk failed to take it in (see the log)"),
    }
    return labels.get(kind, kind)


def render(found: Tally, since: datetime, cfg: DeskConfig) -> str:
    """The support group's notice (HTML), in the desk's language (the caller's locale)."""
    lines = [
        "<b>"
        + esc(
            _("📭 E-mails the desk refused since {time}: {count}").format(
                time=since.astimezone(cfg.tz).strftime("%H:%M"), count=found.total
            )
        )
        + "</b>"
    ]
    for kind in ("too_large", "bomb", "unreadable", "loop", "no_sender", "banned", "error"):
        if found.by_kind.get(kind):
            lines.append(f"• {esc(kind_label(kind))}: {found.by_kind[kind]}")
    if found.senders:
        shown = ", ".join(
            f"{esc(shorten(sender, 80))} ({n})" for sender, n in found.senders[:TOP_SENDERS]
        )
        more = len(found.senders) - TOP_SENDERS
        lines.append(esc(_("From: {senders}")).format(senders=shown))
        if more > 0:
            lines.append(esc(_("…and {count} more senders.").format(count=more)))
    lines.append(
        esc(
            _(
                "Senders answered: {count}. Every refused e-mail is stored whole; each one is "
                "in the audit log (email.refused)."
            ).format(count=found.answered)
        )
    )
    return "\n".join(lines)


async def tell_staff(db: Executor, cfg: DeskConfig, now: datetime) -> int | None:
    """Post the hour's notice, or bring the posted one up to date (edited in place)."""
    chat_id = cfg.support_chat_id
    if chat_id is None:
        return None
    # one writer at a time, so two intakes never post two notices for the same hour
    await store.lock_refusal_notice(db)
    anchor = await outbox.latest(db, OWNER, ("text",))
    since = _since(anchor, now)
    with use_locale(await desk_outbound.desk_language(db, cfg)):
        text = render(await tally(db, since or now), since or now, cfg)
    payload = {"text": text, "parse_mode": desk_outbound.HTML, "_since": (since or now).isoformat()}
    if anchor is None or since is None:  # a new hour: a new message
        return await outbox.send_text(
            db, chat_id, payload, owner=OWNER, priority=PRIORITY_INTERACTIVE
        )
    if anchor.status == "pending" and await outbox.replace_pending(db, anchor.id, payload):
        return anchor.id  # not sent yet: it leaves with the newest counts
    edit = {"text": text, "parse_mode": desk_outbound.HTML}
    last = await outbox.latest(db, OWNER, ("edit",))
    if (
        last is not None
        and last.status == "pending"
        and await outbox.replace_pending(db, last.id, edit, ref_id=anchor.id)
    ):
        return last.id  # an edit waits: it takes the newest counts
    later = None
    if last is not None and last.at > anchor.at:  # edited before: not more often than this
        later = max(now, last.at + timedelta(seconds=EDIT_SECONDS))
    return await outbox.enqueue(
        db, OutboxMessage(chat_id=chat_id, kind="edit", payload=edit, ref_id=anchor.id,
                          owner=OWNER, priority=PRIORITY_INTERACTIVE, not_before=later),
    )  # fmt: skip


def _since(anchor: outbox.Latest | None, now: datetime) -> datetime | None:
    """The start of the hour the posted notice counts, while that hour lasts."""
    if anchor is None:
        return None
    try:
        since = datetime.fromisoformat(str(anchor.payload.get("_since")))
    except ValueError:
        return None
    return since if now - since < WINDOW and since <= now else None
