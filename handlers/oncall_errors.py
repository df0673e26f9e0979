"""What the on-call routers (handlers/oncall.py, rotation.py, oncall_cover.py) answer for the
errors they expect: one sentence for the person, on every command and button of theirs
(`answers_oncall`)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.admin import roster_error
from handlers.refusals import answers
from handlers.routes import Routes
from services.oncall.actions import OncallError
from services.oncall.model import SpecError
from services.roster import RosterError
from services.text import esc

USAGE = (
    "/oncall, /oncall me, /oncall at <time>, /oncall cover <who> <from> <to> [role], "
    "/oncall cancel <number>, /oncall swap <who> <my shift> <their shift> [role], "
    "/oncall calendar [reset], /oncall notify, /oncall set <role> <user>"
)


def oncall_error(error: OncallError | SpecError) -> str:
    detail = esc(error.detail)
    return {
        "not_on_roster": _("{who} is not on the staff roster.").format(who=detail),
        "role_not_held": _("{who} does not hold this role.").format(who=detail),
        "past": _("Past shifts are history and cannot be changed; pick a time from now on."),
        "name_role": _("You are not on call then: name the role, e.g. senior_engineer."),
        "no_rotation": _("That role has no rotation; use /oncall set for its single slot."),
        "no_override": _("There is no such override (or it was cancelled)."),
        "no_shift": _("No such shift in the next 8 weeks."),
        "same_person": _("A swap needs two different people."),
        "swap_gone": _("This swap was already answered or has expired."),
        "draft_gone": _("This preview was already saved or cancelled."),
        "bad_layer": _("That rotation is not valid: {detail}").format(detail=detail),
        "bad_moment": _(
            "I could not read that time. Examples: 18:00, tue 18:00, besok 09:00, "
            "2026-12-01 18:00, +12h."
        ),
        "bad_time": _(
            "I could not read that time. Examples: 18:00, tue 18:00, besok 09:00, "
            "2026-12-01 18:00, +12h."
        ),
        "bad_day": _("Unknown day: use mon … sun or senin … minggu."),
        "end_before_start": _("The end must come after the start."),
        "too_far": _("That is too far ahead (one year at most)."),
        "bad_phone": _("That is not a phone number (use +62…)."),
        "bad_minutes": _("Minutes are a number from 1 to 240."),
        "usage": esc(_("Usage: {usage}").format(usage=USAGE)),
    }.get(error.reason, _("That did not work."))


def answers_oncall(router: Routes) -> None:
    """The on-call routers' expected refusals answered for all their commands and buttons (a
    NotAllowed is already audited and answered by handlers.refusals)."""
    answers(router, (OncallError, SpecError), oncall_error)
    answers(router, RosterError, roster_error)
