"""The layering, checked: who may import whom (README, "Layout").

- services import neither aiogram nor bot, handlers, jobs or sandbox: the domain runs without
  a bot and is tested without one;
- jobs import neither aiogram nor bot, handlers or sandbox;
- handlers do not import bot or sandbox;
- sandbox (the emulators and the demo world) is imported by the `sandbox` command only
  (bot/sandbox_cmd.py and its bot/sandbox_cast.py).

Every import counts, at module level or inside a function (a lazy import does not hide a
circle from this test). `KNOWN` lists the arrows that still point the wrong way, each with
the change that removes it; the test fails on any other, and on a known one that is gone (so
the list only shrinks).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "services": {"aiogram", "bot", "handlers", "jobs", "sandbox"},
    "jobs": {"aiogram", "bot", "handlers", "sandbox"},
    "handlers": {"bot", "sandbox"},
    "bot": {"sandbox"},
}
# (module, imported package) -> why it is still there
ALLOWED = {
    ("bot/sandbox_cmd.py", "sandbox"): "the sandbox command is what runs the sandbox",
    ("bot/sandbox_cast.py", "sandbox"): "the sandbox command's cast, chats, settings and rules",
}
KNOWN: set[tuple[str, str]] = set()


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def wrong_arrows() -> set[tuple[str, str]]:
    found = set()
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            for name in imports(path):
                top = name.split(".")[0]
                if top in forbidden and (module, top) not in ALLOWED:
                    found.add((module, top))
    return found


def test_no_import_points_the_wrong_way() -> None:
    new = wrong_arrows() - KNOWN
    assert not new, f"imports against the layering: {sorted(new)}"


def test_the_known_wrong_arrows_are_still_there() -> None:
    gone = KNOWN - wrong_arrows()
    assert not gone, f"no longer imported, take them off KNOWN: {sorted(gone)}"


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bot.settings import Settings\n    import aiogram.types\n")
    assert set(imports(module)) == {"bot.settings", "aiogram.types"}
