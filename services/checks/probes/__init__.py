"""One module per probe; each exposes `async def probe(ctx: ProbeContext) -> Outcome`."""
