"""Every text a person reads exists in Bahasa Indonesia and English."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.i18n import LOCALES_DIR, compile_catalogues

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "__": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
    "N_": None,
}


def _code_messages() -> dict[str, str]:
    """msgid -> where it is used, for every marked string in the bot's code."""
    found: dict[str, str] = {}
    for package in ("bot", "handlers", "services", "jobs"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, f"{package}/{filename}:{lineno}")
    return found


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_marked_text_is_translated(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = {msgid: where for msgid, where in _code_messages().items() if msgid not in translated}
    assert not missing, f"untranslated in {language}: " + "; ".join(
        f"{where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda i: i[1])
    )


def test_catalogues_compile() -> None:
    compile_catalogues()
    for language in ("id", "en"):
        assert (LOCALES_DIR / language / "LC_MESSAGES" / "messages.mo").exists()
