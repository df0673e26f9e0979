"""The calendar writer keeps RFC 5545 (a real parser reads it back), and the renderers say what
a person reads, escaped, with buttons that the handlers' factories parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from services.i18n import use_locale
from services.oncall import ics, render
from services.oncall.model import Shift
from services.oncall.render import RotationDraft, SwapAnswer

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)


def shift(user: int | None, start: str, end: str, **kw: object) -> Shift:
    return Shift(
        "senior_engineer",
        user,
        datetime.fromisoformat(start).replace(tzinfo=WIB),
        datetime.fromisoformat(end).replace(tzinfo=WIB),
        **kw,  # type: ignore[arg-type]
    )


def test_a_calendar_with_awkward_text_parses_back_exactly() -> None:
    awkward = "Sari; <b>&</b>, \\ back\nslash " + "é" * 80 + " 👩‍👩‍👧"
    body = ics.calendar(awkward, [(shift(1, "2026-11-02 09:00", "2026-11-09 09:00"), awkward)], NOW)
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "folded at 75 octets"
    assert body.endswith(b"END:VCALENDAR\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    parsed = Calendar.from_ical(body)
    assert "X-WR-CALNAME" in parsed
    (event,) = parsed.walk("VEVENT")
    assert str(event["SUMMARY"]) == awkward
    assert event.decoded("DTSTART") == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(weeks=1)
    assert event.decoded("DTSTAMP") == NOW and "@" in str(event["UID"])
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]


def test_the_board_names_who_until_when_and_who_is_next_escaped() -> None:
    rows = [
        render.BoardRow(
            1, "senior_engineer", True,
            shift(1, "2026-11-02 09:00", "2026-11-09 09:00"),
            shift(2, "2026-11-09 09:00", "2026-11-16 09:00"),
        ),
        render.BoardRow(
            2, "tech_lead", True, shift(3, "2026-11-03 18:00", "2026-11-04 09:00", override_id=7),
            None,
        ),
        render.BoardRow(3, "cto", False, None, None, (4,)),
        render.BoardRow(
            4, "engineering_manager", True, shift(None, "2026-11-03 17:00", "2026-11-04 09:00"),
            None,
        ),
    ]  # fmt: skip
    names = {1: "Ani <b>", 2: "Budi", 3: "Dimas", 4: "Ratna"}
    with use_locale("en"):
        text = render.board(rows, names, WIB)
    assert text == (
        "<b>On call now</b>\n"
        "Level 1, Senior Engineer: Ani &lt;b&gt; until Mon 09.11 09:00\n"
        "    next: Budi\n"
        "Level 2, Tech Lead: Dimas until Wed 04.11 09:00 (override)\n"
        "Level 3, CTO: Ratna\n"
        "Level 4, Engineering Manager: nobody (gap) until Wed 04.11 09:00"
    )
    with use_locale("id"):
        assert "Sen 09.11 09:00" in render.board(rows, names, WIB)


def test_the_buttons_the_service_builds_are_what_the_handlers_parse() -> None:
    for act in ("save", "drop"):
        packed = render.rotation_button(123456789, act)
        assert packed == RotationDraft(id=123456789, act=act).pack()
        assert len(packed.encode()) <= 64
    for answer in ("yes", "no"):
        packed = render.swap_button(987654321, answer)
        assert packed == SwapAnswer(id=987654321, act=answer).pack()
