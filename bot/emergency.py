"""`POST /api/emergency`: the emergency number's voice/SMS provider (services/escalation/hotline).

- No `EMERGENCY_WEBHOOK_SECRET`, no signature or a wrong one -> 401, written to the audit log
  (who called from where, why refused) before anything else is read or stored.
- Bodies over 64 KiB -> 413; a signed body that is not a call -> 400 with the reason.
- 200 only once the call is stored and its incident paged on every level; 503 when our own
  store is unreachable (the provider retries; the call id makes a retry the same call).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import asyncpg
from aiohttp import web
from loguru import logger

from bot.bodies import read_body
from bot.keys import CLOCK, FEATURES, POOL, SETTINGS
from services import audit
from services.escalation import emergency, hotline
from services.escalation.hotline import HotlineError
from services.i18n import gettext as _
from services.i18n import use_locale
from services.staff import Action
from services.text import esc

PATH = "/api/emergency"
MAX_BODY = 64 * 1024


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"status": "error", "error": reason}, status=status)


async def _refuse(request: web.Request, reason: str) -> web.Response:
    """401, audited: an unsigned or forged emergency call is somebody probing the line."""
    try:
        await audit.record(
            request.app[POOL],
            actor_id=None,
            action=Action.EMERGENCY_CALL.value,
            allowed=False,
            target=PATH,
            details={"reason": reason, "remote": request.remote or "?"},
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        logger.warning("emergency refusal not audited: {}", type(exc).__name__)
    return _error(401, reason)


def _twiml(text: str) -> web.Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{esc(text)}</Say></Response>'
    return web.Response(text=body, content_type="text/xml")


async def handle(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    secret = settings.EMERGENCY_WEBHOOK_SECRET
    if not secret:
        return await _refuse(request, "the emergency line has no secret configured")
    read = await read_body(request, MAX_BODY)
    if read is None:
        return _error(413, f"body larger than {MAX_BODY} bytes")
    body, _size = read
    twilio = request.headers.get(hotline.TWILIO_HEADER) is not None
    try:
        if twilio:
            params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            signed = hotline.twilio_signature_ok(
                secret, str(request.url), params, request.headers.get(hotline.TWILIO_HEADER)
            )
        else:
            signed = hotline.json_signature_ok(
                secret, body, request.headers.get(hotline.SIGNATURE_HEADER)
            )
    except UnicodeDecodeError:
        signed = False
    if not signed:
        return await _refuse(request, "missing or wrong signature")
    try:
        call = hotline.from_twilio(dict(params)) if twilio else hotline.from_json(json.loads(body))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return _error(400, f"malformed JSON: {type(exc).__name__}")
    except HotlineError as exc:
        return _error(400, f"not an emergency call: {exc}")
    features = request.app[FEATURES]
    try:
        outcome = await emergency.raise_emergency(
            request.app[POOL],
            request.app[CLOCK],
            features.escalation_context,
            call,
            channels=features.alerts_rules.channels,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        logger.error("emergency call not stored: {}", type(exc).__name__)
        return _error(503, "not stored, retry later")
    if twilio:
        with use_locale(settings.DEFAULT_LOCALE):
            return _twiml(_("QuickCart on-call engineers have been paged. Help is coming."))
    return web.json_response(
        {
            "status": "ok",
            "ticket": outcome.number,
            "paged": len(outcome.paged),
            "levels": outcome.levels,
            "duplicate": outcome.duplicate,
        }
    )


def add_emergency_route(app: web.Application) -> None:
    app.router.add_post(PATH, handle)
