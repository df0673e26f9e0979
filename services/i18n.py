"""Gettext catalogues for code that runs outside an update (alerts, escalations, reports).

Handlers use aiogram's I18n; both read the same `locales/<lang>/LC_MESSAGES/messages.mo`,
and the bot's locale middleware sets this module's context too, so a renderer called from a
handler and one called from the delivery worker speak the same language.
`.mo` files are compiled from the `.po` sources at start when missing or older.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("id", "en")

_current: ContextVar[str | None] = ContextVar("quickcart_locale", default=None)
_default = {"language": LANGUAGES[0]}
_catalogues: dict[str, _gettext.NullTranslations] = {}


def compile_catalogues(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; return what was written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written: list[Path] = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        tmp.replace(mo_path)
        written.append(mo_path)
    return written


def load(locales_dir: Path = LOCALES_DIR) -> None:
    compile_catalogues(locales_dir)
    for language in LANGUAGES:
        _catalogues[language] = _gettext.translation(
            DOMAIN, localedir=str(locales_dir), languages=[language], fallback=True
        )


def _catalogue() -> _gettext.NullTranslations:
    if not _catalogues:
        load()
    return _catalogues.get(current_locale()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    return _catalogue().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue().ngettext(singular, plural, n)


_ = gettext


def set_default_locale(language: str) -> None:
    """DEFAULT_LOCALE: the language of people who have not chosen one."""
    if language in LANGUAGES:
        _default["language"] = language


def current_locale() -> str:
    return _current.get() or _default["language"]


def set_locale(language: str | None) -> None:
    _current.set(language if language in LANGUAGES else None)


@contextmanager
def use_locale(language: str | None) -> Iterator[None]:
    """Render for one recipient: `with use_locale(person.language): ...`."""
    token = _current.set(language if language in LANGUAGES else None)
    try:
        yield
    finally:
        _current.reset(token)


def N_(message: str) -> str:
    """Mark a text for the catalogue without translating it yet (menus, tables of labels)."""
    return message
