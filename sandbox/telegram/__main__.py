"""``python -m sandbox.telegram --port 8081 --token 123:ABC``: the emulator on its own."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .config import EmulatorConfig, FaultConfig, LimitConfig
from .server import create_app


def parse_args(argv: list[str] | None = None) -> EmulatorConfig:
    parser = argparse.ArgumentParser(prog="python -m sandbox.telegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", action="append", help="bot token; repeat for aliases")
    parser.add_argument("--bot-username", default="quickcart_support_bot")
    parser.add_argument("--bot-name", default="QuickCart Support")
    parser.add_argument("--no-limits", action="store_true", help="switch flood limits off")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 5xx answers")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each call")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tokens = args.token or [EmulatorConfig().token]
    return EmulatorConfig(
        token=tokens[0],
        extra_tokens=tuple(tokens[1:]),
        bot_username=args.bot_username,
        bot_first_name=args.bot_name,
        host=args.host,
        port=args.port,
        limits=LimitConfig(enabled=not args.no_limits),
        faults=FaultConfig(error_rate=args.error_rate, latency=args.latency, seed=args.seed),
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(f"Telegram Bot API emulator on http://{config.host}:{config.port} (bot {config.bot_id})")
    web.run_app(create_app(config), host=config.host, port=config.port, print=None)


if __name__ == "__main__":
    main()
