"""What the emergency number's voice/SMS provider posts, and how its signature is checked.

Two shapes, both signed with `EMERGENCY_WEBHOOK_SECRET`:

- provider-agnostic JSON, `Content-Type: application/json`:
  `{"call_id": "c-1", "caller": "+6281234567890", "name": "Budi", "message": "...",
  "kind": "voice"|"sms"}`, signed in `X-Emergency-Signature: sha256=<hex>`, the HMAC-SHA256 of
  the raw body;
- the Twilio adapter, `application/x-www-form-urlencoded` with `CallSid`/`MessageSid`, `From`,
  `CallerName`, `Body`/`TranscriptionText`, signed in `X-Twilio-Signature` as Twilio signs:
  base64 of the HMAC-SHA1 of the full URL followed by every POST parameter's name and value,
  sorted by name.

Pure functions: no HTTP, no database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from services.escalation.store_emergency import EmergencyCall

SIGNATURE_HEADER = "X-Emergency-Signature"
TWILIO_HEADER = "X-Twilio-Signature"


class HotlineError(ValueError):
    """A signed request whose content cannot be an emergency call (answered 400)."""


class GenericCall(BaseModel):
    call_id: str | None = Field(default=None, max_length=200)
    caller: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    message: str = Field(default="", max_length=4000)
    kind: str = Field(default="voice", max_length=20)


def sign_json(secret: str, body: bytes) -> str:
    """The value of X-Emergency-Signature for `body` (the provider's side; tests use it)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_twilio(secret: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature of a form POST to `url`."""
    data = url + "".join(k + v for k, v in sorted(params, key=lambda kv: kv[0]))
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def json_signature_ok(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.strip().encode(), sign_json(secret, body).encode())


def twilio_signature_ok(
    secret: str | None, url: str, params: Sequence[tuple[str, str]], header: str | None
) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.strip().encode(), sign_twilio(secret, url, params).encode())


def _clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL; the rest is kept as sent."""
    return text.replace("\x00", "")


def from_json(raw: Any) -> EmergencyCall:
    try:
        call = GenericCall.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise HotlineError(f"{where}: {first['msg']}") from None
    caller = _clean(call.name or call.caller)
    payload = {"phone": _clean(call.caller), "name": call.name, "kind": call.kind}
    return EmergencyCall(
        source="webhook",
        caller=caller,
        message=_clean(call.message) or f"({call.kind})",
        provider_ref=_clean(call.call_id) if call.call_id else None,
        payload={k: v for k, v in payload.items() if v},
    )


def from_twilio(form: Mapping[str, str]) -> EmergencyCall:
    phone = _clean(form.get("From", "")).strip()
    if not phone:
        raise HotlineError("From: field required")
    ref = form.get("CallSid") or form.get("MessageSid") or form.get("SmsSid")
    kind = "sms" if form.get("MessageSid") or form.get("SmsSid") else "voice"
    text = form.get("Body") or form.get("TranscriptionText") or f"({kind})"
    name = _clean(form.get("CallerName", "")).strip()
    payload = {"phone": phone, "name": name, "kind": kind, "provider": "twilio"}
    return EmergencyCall(
        source="webhook",
        caller=(name or phone)[:200],
        message=_clean(text)[:4000],
        provider_ref=_clean(ref)[:200] if ref else None,
        payload={k: v for k, v in payload.items() if v},
    )
