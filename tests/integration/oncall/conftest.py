"""The escalation stories' roster and context, for the on-call stories that page through them."""

from tests.integration.escalation.conftest import ctx, roster

__all__ = ["ctx", "roster"]
