"""Numbers as people read them: 12.5 %, 3.2 s, 4 min, 1.5 GiB."""

from __future__ import annotations

from services.checks.model import Unit, Value


def fmt_number(amount: float) -> str:
    if float(amount).is_integer():
        return f"{int(amount):,}".replace(",", " ")
    if abs(amount) >= 100:
        return f"{amount:.0f}"
    return f"{amount:.1f}" if abs(amount) >= 10 else f"{amount:.2f}".rstrip("0").rstrip(".")


def fmt_bytes(amount: float) -> str:
    size = float(amount)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def fmt_duration(seconds: float) -> str:
    value = float(seconds)
    if abs(value) < 1:
        return f"{value * 1000:.0f} ms"
    if abs(value) < 120:
        return f"{fmt_number(round(value, 1))} s"
    if abs(value) < 7200:
        return f"{value / 60:.0f} min"
    if abs(value) < 172_800:
        return f"{value / 3600:.1f} h"
    return f"{value / 86_400:.1f} d"


def fmt_percent(amount: float) -> str:
    return f"{amount:.1f} %"


def fmt_value(value: Value) -> str:
    return fmt_amount(value.amount, value.unit)


def fmt_amount(amount: float, unit: Unit) -> str:
    if unit is Unit.PERCENT:
        return fmt_percent(amount)
    if unit is Unit.SECONDS:
        return fmt_duration(amount)
    if unit is Unit.BYTES:
        return fmt_bytes(amount)
    if unit is Unit.RATIO:
        return f"{amount:.2f}"
    return fmt_number(amount)
