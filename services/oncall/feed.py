"""A calendar feed by its token: the next 8 weeks of a person's shifts, or of a role's."""

from __future__ import annotations

import re
from datetime import datetime

from services import roster
from services.escalation.render import role_label
from services.i18n import gettext as _
from services.i18n import use_locale
from services.oncall import ics, store, views
from services.oncall.actions import HORIZON, OncallContext
from services.storage.types import Executor

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def feed(db: Executor, ctx: OncallContext, token: str, now: datetime) -> bytes | None:
    """The .ics body, or None for a token that is malformed, unknown or revoked."""
    if not TOKEN.match(token):
        return None
    found = await store.calendar(db, token)
    if found is None:
        return None
    start = now - (HORIZON / 8)  # last week too: a calendar shows the shift running now
    end = now + HORIZON
    beyond = end + HORIZON / 2  # a shift that starts in the window is listed whole
    if found.kind == "person":
        user_id = int(found.subject)
        member = await roster.member(db, user_id)
        language = member.language if member and member.language else ctx.default_locale
        shifts = await views.shifts_of_person(db, ctx, user_id, start, beyond)
        shifts = [s for s in shifts if s.start < end]
        with use_locale(language):
            name = _("On call: {name}").format(name=member.display_name if member else user_id)
            events = [(s, _("On call: {role}").format(role=role_label(s.role))) for s in shifts]
    else:
        owner_language = ctx.default_locale
        shifts = await views.shifts_of_role(db, ctx, found.subject, start, beyond)
        shifts = [s for s in shifts if s.start < end]
        names = await roster.names_of(db, [s.user_id for s in shifts])
        with use_locale(owner_language):
            name = _("On call: {role}").format(role=role_label(found.subject))
            events = [
                (s, _("{role}: {name}").format(
                    role=role_label(s.role), name=names.get(s.user_id or 0, "?")
                ))
                for s in shifts
            ]  # fmt: skip
    return ics.calendar(name, events, now)
