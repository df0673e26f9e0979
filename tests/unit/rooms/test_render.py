"""The room's renderers and the /insights period, table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.insights import parse_days
from services.i18n import use_locale
from services.postmortem.build import Line, Postmortem
from services.postmortem.render import html_document, markdown
from services.rooms.render import SummaryView, summary, topic_name
from services.text import visible_length

TZ = ZoneInfo("Asia/Jakarta")
T = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Payments failing", "QC-000123 · P0 · Payments failing"),
        ("  many\n spaces ", "QC-000123 · P0 · many spaces"),
        ("", "QC-000123 · P0 · —"),
    ],
)
def test_topic_name(title: str, expected: str) -> None:
    assert topic_name("QC-000123", "P0", title) == expected


def test_a_long_title_fits_telegrams_128_characters() -> None:
    name = topic_name("QC-000123", "P0", "x" * 5000)
    assert len(name) == 128 and name.startswith("QC-000123 · P0 · x") and name.endswith("…")


def view(**changes: object) -> SummaryView:
    base = SummaryView(
        number="QC-000001", title="<b>Pay</b> & co", priority="P0", status="open", level=1,
        level_role="support_engineer", lead=None, comms=None, paged=["Sari"],
        alerts=[("PaymentErrors", "firing")], tickets=[("QC-000001", None)], customers=0,
        opened_at=T, resolved_at=None, last_update_at=None, last_update_by=None,
        last_update_text=None, next_update_due=T + timedelta(minutes=30),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_summary_escapes_foreign_text_and_stays_under_telegrams_limit() -> None:
    with use_locale("en"):
        text = summary(
            view(last_update_at=T, last_update_by="Maya <3", last_update_text="<&>" * 3000), TZ
        )
    assert "&lt;b&gt;Pay&lt;/b&gt; &amp; co" in text
    assert "Maya &lt;3" in text and "<&>" not in text
    assert visible_length(text) < 4096
    assert "Next update due: 2030-01-07 08:30" in text


def test_a_resolved_summary_has_no_next_update() -> None:
    with use_locale("en"):
        text = summary(view(status="resolved", resolved_at=T + timedelta(hours=1)), TZ)
    assert "Resolved: 2030-01-07 09:00" in text and "Next update due" not in text


def test_the_postmortem_documents_escape_and_keep_every_section() -> None:
    pm = Postmortem(
        number="QC-000001", title="<script>", priority="P0", source="alert", opened_at=T,
        acknowledged_at=T + timedelta(minutes=4), resolved_at=T + timedelta(minutes=75),
        lead="Maya", comms=None, level=2, customers=0, payments_failed=12, detected_by="alert",
        first_alert="PaymentErrors", first_alert_at=T, last_update=None,
        timeline=[Line(T, "Maya", "Update by Maya: <b>")],
    )  # fmt: skip
    with use_locale("en"):
        md = markdown(pm, TZ)
        page = html_document(pm, TZ)
    for heading in ("Summary", "Impact", "Detection", "Timeline", "Follow-ups", "Root cause",
                    "Lessons learned"):  # fmt: skip
        assert f"## {heading}" in md
    assert "Time to acknowledge (MTTA): 4 min" in md
    assert "Time to resolve (MTTR): 1 h 15 min" in md
    assert "Payments failed during the incident: 12" in md
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("args", "days"),
    [(None, 30), ("", 30), ("30d", 30), ("7", 7), (" 90D ", 90), ("0d", None), ("400d", None),
     ("week", None), ("-3d", None)],
)  # fmt: skip
def test_insights_period(args: str | None, days: int | None) -> None:
    assert parse_days(args) == days
