"""`quickcart-ops rules export --prometheus [--output FILE]`: the alert rules of RULES_FILE
(or the defaults) as a Prometheus rules file, on standard output or into FILE."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bot.settings import Settings
from services.alerts.config import SECTION as ALERTS
from services.alerts.config import AlertsRules
from services.exports import prometheus
from services.rules import Rules


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = commands.add_parser("rules", help="the alert rules, exported for other tools")
    actions = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the alert rules in another tool's format")
    export.add_argument(
        "--prometheus",
        action="store_true",
        required=True,
        help="a Prometheus rules file (promtool check rules accepts it)",
    )
    export.add_argument("--output", "-o", type=Path, help="write here instead of stdout")


def export_text(settings: Settings) -> str:
    rules = Rules.load(settings.RULES_FILE)
    return prometheus.render(
        rules.section(ALERTS, AlertsRules),
        rules.section(prometheus.SECTION, prometheus.PrometheusRules),
        rules.source,
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    text = export_text(settings)
    if args.output is None:
        print(text, end="")
        return 0
    # written whole or not at all: Prometheus may be reloading the file meanwhile
    target: Path = args.output
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, target)
    print(f"wrote {target}")
    return 0
