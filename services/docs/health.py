"""The monthly documentation review: stale documents with their owners, the metrics document
regenerated (written into DOCS_DIR, kept in doc_snapshots) with its diff against the last
version, and the documentation health report to the admin chat through the outbox."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from services import outbox
from services.alerts.config import AlertsRules
from services.docs import metrics_doc
from services.docs.config import DocsRules
from services.docs.review import Review, review
from services.i18n import gettext as _
from services.i18n import ngettext, use_locale
from services.localized import send_to_chat
from services.sla import SlaRules
from services.storage.types import Executor
from services.text import esc


@dataclass
class DocHealth:
    review: Review
    metrics_file: str
    diff: list[str] = field(default_factory=list)
    first_version: bool = False
    written: bool = False
    write_error: str | None = None

    @property
    def added(self) -> int:
        return sum(1 for d in self.diff if d.startswith("+") and not d.startswith("+++"))

    @property
    def removed(self) -> int:
        return sum(1 for d in self.diff if d.startswith("-") and not d.startswith("---"))

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "documents": len(self.review.documents),
            "git": self.review.git,
            "stale_days": self.review.stale_days,
            "stale": [
                {"path": d.path, "days": d.age_days(now), "owner": d.owner, "source": d.source}
                for d in self.review.stale
            ],
            "metrics_file": self.metrics_file,
            "metrics_added": self.added,
            "metrics_removed": self.removed,
            "metrics_first_version": self.first_version,
            "metrics_written": self.written,
            "write_error": self.write_error,
        }


async def _previous(db: Executor, name: str) -> str | None:
    found: str | None = await db.fetchval("SELECT content FROM doc_snapshots WHERE name = $1", name)
    return found


async def _keep(db: Executor, name: str, content: str, now: datetime) -> None:
    await db.execute(
        """
        INSERT INTO doc_snapshots (name, content, generated_at) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET content = EXCLUDED.content,
                                         generated_at = EXCLUDED.generated_at
        """,
        name,
        content,
        now,
    )


def _write(root: Path, name: str, content: str) -> str | None:
    target = (root / name).resolve()
    if root.resolve() not in target.parents:
        return "outside DOCS_DIR"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


async def monthly_review(
    db: Executor,
    root: Path,
    rules: DocsRules,
    *,
    alerts: AlertsRules,
    jobs: Sequence[tuple[str, str]],
    sla: SlaRules,
    now: datetime,
) -> DocHealth:
    found = await review(root, rules, now)
    with use_locale(rules.language):
        content = metrics_doc.render(alerts, jobs, sla)
    before = await _previous(db, rules.metrics_file)
    health = DocHealth(found, rules.metrics_file, first_version=before is None)
    health.diff = metrics_doc.diff(before, content, rules.metrics_file)
    if rules.write_metrics_file:
        health.write_error = _write(root, rules.metrics_file, content)
        health.written = health.write_error is None
    await _keep(db, rules.metrics_file, content, now)
    return health


def render_report(health: DocHealth, now: datetime, tz: ZoneInfo, max_diff: int) -> str:
    found = health.review
    source = _("git history") if found.git else _("file times")
    lines = [
        "📚 "
        + _("<b>Documentation health</b>: {count} documents (changes from {source})").format(
            count=len(found.documents), source=source
        ),
    ]
    if found.stale:
        lines.append(
            ngettext(
                "{count} document not changed for {days} days or more:",
                "{count} documents not changed for {days} days or more:",
                len(found.stale),
            ).format(count=len(found.stale), days=found.stale_days)
        )
        for doc in found.stale:
            owner = esc(doc.owner) if doc.owner else _("no owner")
            lines.append(
                "• "
                + _("{path}: {days} days (since {date}), owner {owner}").format(
                    path=esc(doc.path),
                    days=doc.age_days(now),
                    date=doc.changed_at.astimezone(tz).strftime("%Y-%m-%d"),
                    owner=owner,
                )
            )
    else:
        lines.append(
            _("Every document changed in the last {days} days.").format(days=found.stale_days)
        )
    lines.append("")
    name = esc(health.metrics_file)
    if health.first_version:
        lines.append(
            _("The metrics document {name} was generated for the first time.").format(name=name)
        )
    elif not health.diff:
        lines.append(
            _("The metrics document {name} is unchanged since last month.").format(name=name)
        )
    else:
        lines.append(
            _("The metrics document {name} was regenerated: +{added} −{removed} lines.").format(
                name=name, added=health.added, removed=health.removed
            )
        )
        shown = health.diff[:max_diff]
        more = len(health.diff) - len(shown)
        lines.append("<pre>" + esc("\n".join(shown)) + "</pre>")
        if more > 0:
            lines.append(_("…and {count} more lines in the attached diff.").format(count=more))
    if health.write_error:
        lines.append(
            "⚠️ "
            + _("It could not be written into DOCS_DIR: {error}").format(
                error=esc(health.write_error)
            )
        )
    return "\n".join(lines)


async def send_report(
    db: Executor,
    health: DocHealth,
    *,
    now: datetime,
    tz: ZoneInfo,
    admin_chat_id: int | None,
    default_locale: str,
    max_diff: int,
    dedup: str,
) -> bool:
    if admin_chat_id is None:
        return False
    await send_to_chat(
        db,
        admin_chat_id,
        default_locale,
        lambda: render_report(health, now, tz, max_diff),
        dedup_key=f"{dedup}:text",
        priority=outbox.PRIORITY_REPORT,
    )
    if len(health.diff) > max_diff:
        body = ("\n".join(health.diff) + "\n").encode()
        await outbox.enqueue(
            db,
            outbox.OutboxMessage(
                chat_id=admin_chat_id,
                kind="document",
                payload={
                    "document": {
                        "base64": base64.b64encode(body).decode(),
                        "filename": f"{Path(health.metrics_file).stem}.diff",
                    }
                },
                dedup_key=f"{dedup}:diff",
                priority=outbox.PRIORITY_REPORT,
            ),
        )
    return True
