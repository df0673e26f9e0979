"""The calendar feed (RFC 5545): one VEVENT per shift, written by hand to the letter of the RFC:
CRLF line ends, lines folded at 75 octets, TEXT values escaped, UTC DATE-TIMEs, a DTSTAMP and a
stable UID on every event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from services.oncall.model import Shift

PRODID = "-//QuickCart Ops//On-call schedules//EN"


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11: backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets are split, continuation lines start with a
    space; never inside a UTF-8 sequence."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(
    name: str, shifts: Iterable[tuple[Shift, str]], now: datetime, uid_host: str = "quickcart-ops"
) -> bytes:
    """`shifts`: each shift with its summary (already in the reader's language)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for shift, summary in shifts:
        uid = f"{shift.role}-{shift.user_id}-{stamp(shift.start)}@{uid_host}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(uid)}",
            f"DTSTAMP:{stamp(now)}",
            f"DTSTART:{stamp(shift.start)}",
            f"DTEND:{stamp(shift.end)}",
            f"SUMMARY:{escape_text(summary)}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
