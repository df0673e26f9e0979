"""The `quickcart-ops` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot import alerts_cmd
from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings
from services.rules import RulesError

EXIT_CONFIG = 78  # EX_CONFIG: a setting is missing or malformed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quickcart-ops", description="QuickCart Ops: the chatops bot for QuickCart."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot (long polling, or webhook when WEBHOOK_URL is set)"
    )
    commands.add_parser("migrate", help="apply pending migrations and exit")
    check = commands.add_parser(
        "check", help="run health checks once; exit 0 ok / 1 warn / 2 crit / 3 unknown"
    )
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.add_argument("names", nargs="*", metavar="NAME", help="probes to run (default: all)")
    sandbox = commands.add_parser("sandbox", help="everything local, with a web chat")
    sandbox.add_argument("--port", type=int, default=8081, help="web chat / emulator port")
    jobs = commands.add_parser("jobs", help="the maintenance schedule")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    job_commands.add_parser("list", help="every job with its schedule and next run")
    run_job = job_commands.add_parser("run", help="run one job now")
    run_job.add_argument("name")
    from bot.rules_cmd import add_parser as add_rules

    add_rules(commands)
    alerts_cmd.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.secrets, fmt=settings.LOG_FORMAT, level=settings.LOG_LEVEL)
        return dispatch(args, settings)
    except (SettingsError, RulesError) as exc:
        print(f"quickcart-ops: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return cmd_run(settings)
    if args.command == "migrate":
        return asyncio.run(cmd_migrate(settings))
    if args.command == "check":
        return asyncio.run(cmd_check(settings, args.names, as_json=args.json))
    if args.command == "sandbox":
        from bot.sandbox_cmd import run_sandbox

        return run_sandbox(settings, port=args.port)
    if args.command == "jobs":
        return asyncio.run(cmd_jobs(settings, args))
    if args.command == "rules":
        from bot.rules_cmd import run as rules_run

        return rules_run(settings, args)
    if args.command == "alerts":
        return alerts_cmd.run(settings, args)
    raise AssertionError(args.command)


def cmd_run(settings: Settings) -> int:
    settings.require("BOT_TOKEN", "ADMIN_CHAT_ID", "SUPPORT_CHAT_ID")
    from aiohttp import web

    from bot.heap import settle
    from bot.runtime import create_app

    app = create_app(settings)
    app.on_startup.append(settle)  # after the app's own startup: the heap the bot runs with
    web.run_app(
        app,
        host=settings.HTTP_HOST,
        port=settings.HTTP_PORT,
        print=None,
        handle_signals=True,
    )
    return 0


async def cmd_migrate(settings: Settings) -> int:
    from bot.runtime import apply_migrations, resolve_database_url

    url, embedded = await resolve_database_url(settings)
    try:
        applied = await apply_migrations(url)
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


async def cmd_check(settings: Settings, names: list[str], *, as_json: bool) -> int:
    from bot.checks_cmd import run_checks_cli

    text, code = await run_checks_cli(settings, names, as_json=as_json)
    print(text)
    return code


async def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    from bot.jobs_cmd import jobs_list, jobs_run

    if args.jobs_command == "list":
        print(await jobs_list(settings))
        return 0
    return await jobs_run(settings, args.name)


if __name__ == "__main__":
    raise SystemExit(main())
