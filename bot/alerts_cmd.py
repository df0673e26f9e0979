"""`quickcart-ops alerts route [--labels a=b,c=d] [--tree]`: the routing tree of RULES_FILE
from a terminal. Reads RULES_FILE only; needs no database."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from services.alerts.config import SECTION, AlertsRules
from services.alerts.route_report import BadLabels, parse_labels, render_route_test, render_tree
from services.i18n import gettext, use_locale
from services.rules import Rules


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    alerts = commands.add_parser("alerts", help="the alert routing tree of RULES_FILE")
    actions = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    route = actions.add_parser(
        "route", help="which receivers an alert with these labels reaches (amtool routes test)"
    )
    route.add_argument(
        "--labels", action="append", default=[], metavar="A=B,C=D", help="the alert's labels"
    )
    route.add_argument("pairs", nargs="*", metavar="A=B", help="more labels")
    route.add_argument("--tree", action="store_true", help="print the routing tree")
    route.add_argument(
        "--verify-receivers",
        metavar="A,B",
        help="exit 1 unless the alert reaches exactly these receivers, in this order (for CI)",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    config = Rules.load(settings.RULES_FILE).section(SECTION, AlertsRules)
    with use_locale(settings.DEFAULT_LOCALE):
        if args.tree:
            print(render_tree(config))
            if not (args.labels or args.pairs):
                return 0
        try:
            labels = parse_labels([*args.labels, *args.pairs])
        except BadLabels as exc:
            print(f"quickcart-ops: not a label (name=value): {exc}", file=sys.stderr)
            return 2
        if not labels:
            print("quickcart-ops: give the alert's labels: --labels a=b,c=d", file=sys.stderr)
            return 2
        text = render_route_test(config, labels)
        print(text)
        if args.verify_receivers is not None:
            expected = ",".join(n.strip() for n in args.verify_receivers.split(",") if n.strip())
            if text.splitlines()[0] != expected:
                print(
                    gettext("The receivers are not the expected {expected}.").format(
                        expected=expected
                    ),
                    file=sys.stderr,
                )
                return 1
    return 0
