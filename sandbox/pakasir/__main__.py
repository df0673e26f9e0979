"""`python -m sandbox.pakasir --port 8090`: run the Pakasir emulator on its own."""

from __future__ import annotations

import argparse
import asyncio

from sandbox.pakasir.emulator import PakasirConfig, PakasirEmulator


async def _serve(config: PakasirConfig, probe_order: str, amount: int) -> None:
    async with PakasirEmulator(config) as pakasir:
        pakasir.add_transaction(probe_order, amount)
        print(f"Pakasir emulator on {pakasir.base_url} (project {config.project})", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--project", default="quickcart")
    parser.add_argument("--api-key", default="sandbox-api-key")
    parser.add_argument("--probe-order", default="PROBE-0001")
    parser.add_argument("--probe-amount", type=int, default=10_000)
    args = parser.parse_args()
    config = PakasirConfig(
        project=args.project, api_key=args.api_key, host=args.host, port=args.port
    )
    asyncio.run(_serve(config, args.probe_order, args.probe_amount))


if __name__ == "__main__":
    main()
