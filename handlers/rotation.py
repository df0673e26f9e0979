"""`/rotation` lists the rotations; admins `/rotation set|add|off <role> ...`: typed, previewed
(the next four shifts) and saved only with the Save button under the preview."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import asyncpg
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, command, press
from handlers.buttons import as_markup, settle
from handlers.oncall_errors import answers_oncall
from handlers.refusals import Usage
from handlers.routes import Routes
from services import roster
from services.escalation.render import role_label
from services.oncall import actions, render, store, views
from services.oncall.actions import OncallContext, OncallError
from services.oncall.model import RotationSpec
from services.oncall.render import RotationDraft
from services.text import esc
from services.users import Person, Role

router = Routes(__name__)
answers_oncall(router)


@command(router, "rotation", "oncall")
async def cmd_rotation(message: Message, asked: Asked[OncallContext]) -> None:
    words = asked.args.split()
    person, pool, ctx, now = asked.person, asked.pool, asked.ctx, asked.now
    if not words:
        found = await views.rotations(pool, now)
        ids: list[int | None] = [
            m for _r, spec in found if spec for layer in spec.layers for m in layer.members
        ]
        names = await roster.names_of(pool, ids)
        await message.answer(render.rotations(found, names))
        return
    sub = words[0].lower()
    if sub not in ("set", "add", "off") or len(words) < 2:
        raise Usage(_usage())
    role = roster.parse_roles(words[1:2])[0]
    spec = await _spec_from_words(pool, ctx, person, role, sub, words[2:], now)
    if spec is False:
        raise Usage(_usage())
    assert spec is None or isinstance(spec, RotationSpec)
    draft_id, upcoming = await actions.draft_rotation(
        pool, ctx, person, role, spec, now, message.chat.id
    )
    ids = [s.user_id for s in upcoming]
    ids += [m for layer in spec.layers for m in layer.members] if spec else []
    names = await roster.names_of(pool, ids)
    await message.answer(
        render.preview(role.value, spec, upcoming, names, ctx.tz),
        reply_markup=as_markup(render.preview_keyboard(draft_id)),
    )


def _usage() -> str:
    return _(
        "Usage: /rotation set <role> weekly mon 09:00 <people...> "
        "[only mon-fri 09:00-17:00]; /rotation add <role> <layer name> daily 09:00 "
        "<people...> only mon-fri 09:00-17:00; /rotation off <role>"
    )


async def _spec_from_words(
    pool: asyncpg.Pool, ctx: OncallContext, person: Person, role: Role, sub: str,
    words: list[str], now: datetime,
) -> RotationSpec | Literal[False] | None:  # fmt: skip
    if sub == "off":
        return None
    if not words:
        return False
    resolved = [
        str(await actions.resolve_person(pool, w, person))
        if w.startswith("@") or w.lower() in ("me", "saya")
        else w
        for w in words
    ]
    ctx_tz = ctx.tz
    if sub == "add":
        if len(resolved) < 2:
            return False
        layer = actions.parse_layer(resolved[1:]).model_copy(update={"name": resolved[0][:40]})
        current = await store.current_spec(pool, role.value, now)
        base = list(current.layers) if current else []
        layers = [*base, actions.anchored(layer, now, ctx_tz)]
    else:
        layer = actions.parse_layer(resolved)
        layers = [actions.anchored(layer, now, ctx_tz)]
    try:
        return RotationSpec(layers=layers)
    except ValueError as exc:
        raise OncallError("bad_layer", str(exc).splitlines()[0][:200]) from None


@press(router, RotationDraft, "oncall")
async def on_rotation_button(
    query: CallbackQuery, callback_data: RotationDraft, asked: Asked[OncallContext]
) -> None:
    if callback_data.act == "drop":
        await actions.drop_draft(asked.pool, asked.person, callback_data.id, asked.chat_id)
        text = _("Cancelled; nothing changed.")
    else:
        role, spec = await actions.save_draft(
            asked.pool, asked.ctx, asked.person, callback_data.id, asked.now, asked.chat_id
        )
        text = (
            _("Saved: the {role} rotation applies from now on.")
            if spec
            else _("Removed: the {role} rotation ends now.")
        ).format(role=esc(role_label(role)))
    await settle(query, text, post=text)
