"""The maintenance scheduler and its jobs.

Public API (bot/cli.py, bot/jobs_cmd.py and bot/workers.py call these):
- `JobDeps(pool=..., rules=..., clock=..., timezone=..., admin_chat_id=..., targets=..., ...)`
- `list_jobs(rules, timezone, now, pool=None)` / `jobs_table(listings, timezone)`
- `run_job(name, deps, triggered_by="cli", actor_id=None, confirmed=False)`
- `running_scheduler(deps)`: async context manager owning the AsyncIOScheduler
- `JOBS`: the registry
"""
