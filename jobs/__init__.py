"""The maintenance scheduler and its jobs.

Public API (the lead calls these from bot/cli.py and the runtime):
- `JobDeps(pool=..., rules=..., clock=..., timezone=..., admin_chat_id=..., targets=..., ...)`
- `list_jobs(rules, timezone, now, pool=None)` / `jobs_table(listings, timezone)`
- `run_job(name, deps, triggered_by="cli", actor_id=None, confirmed=False)`
- `running_scheduler(deps)`: async context manager owning the AsyncIOScheduler
- `JOBS`: the registry
"""
