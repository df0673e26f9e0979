import asyncio
import asyncpg
from bot.sandbox_cmd import Sandbox

async def test_debug(sandbox: Sandbox, db_url: str) -> None:
    await asyncio.sleep(6)
    await sandbox.world.act("gateway_fail")
    await asyncio.sleep(10)
    conn = await asyncpg.connect(db_url)
    for r in await conn.fetch("SELECT * FROM check_samples WHERE key='gateway_up' ORDER BY 1 DESC LIMIT 5"):
        print(dict(r))
    for r in await conn.fetch("SELECT check_name, status, count(*) FROM check_results GROUP BY 1,2"):
        print(dict(r))
    for r in await conn.fetch("SELECT * FROM alerts LIMIT 5"):
        print(dict(r))
    for r in await conn.fetch("SELECT trigger, count(*) FROM check_runs GROUP BY 1"):
        print(dict(r))
    await conn.close()
    assert False
