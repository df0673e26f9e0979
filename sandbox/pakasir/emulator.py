"""Pakasir, played locally.

The endpoints QuickCart and the bot use, shaped like Pakasir's documented API:

- `GET  /api/transactiondetail?project=&amount=&order_id=&api_key=` -> `{"transaction": {...}}`
- `POST /api/transactioncreate/{method}` (qris, bni_va, bri_va, ...) -> `{"payment": {...}}`
- `POST /api/transactioncancel`, `POST /api/paymentsimulation` (marks a payment completed and
  posts Pakasir's webhook to `webhook_url` when one is set)

and a control surface for tests and the sandbox: `POST /_control/mode` with
`{"mode": "answer" | "fail" | "slow" | "hang", "delay": s, "status": code}`,
`GET /_control/requests`. The same controls exist in Python (`set_mode`, `requests`).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

VA_METHODS = (
    "bni_va",
    "bri_va",
    "cimb_niaga_va",
    "permata_va",
    "maybank_va",
    "sampoerna_va",
    "bnc_va",
    "atm_bersama_va",
    "artha_graha_va",
)
METHODS = ("qris", *VA_METHODS)


class Mode(enum.StrEnum):
    ANSWER = "answer"
    FAIL = "fail"  # every API call answers `fail_status` (5xx)
    SLOW = "slow"  # answers after `delay` seconds
    HANG = "hang"  # accepts the request and never answers (until the emulator stops)


@dataclass
class PakasirConfig:
    project: str = "quickcart"
    api_key: str = "sandbox-api-key"
    host: str = "127.0.0.1"
    port: int = 0
    webhook_url: str | None = None


@dataclass
class Transaction:
    order_id: str
    amount: int
    payment_method: str
    status: str = "pending"
    fee: int = 0
    payment_number: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    completed_at: datetime | None = None

    def detail(self, project: str) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "order_id": self.order_id,
            "project": project,
            "status": self.status,
            "payment_method": self.payment_method,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }


@dataclass
class State:
    config: PakasirConfig
    mode: Mode = Mode.ANSWER
    delay_s: float = 1.0
    fail_status: int = 503
    transactions: dict[str, Transaction] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path), no query
    released: asyncio.Event = field(default_factory=asyncio.Event)


STATE = web.AppKey("pakasir_state", State)


def _fee(method: str, amount: int) -> int:
    return round(amount * 0.007) + 310 if method == "qris" else 3500


@web.middleware
async def _faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    if not request.path.startswith("/api/"):
        return await handler(request)
    state.requests.append((request.method, request.path))
    if state.mode is Mode.HANG:
        await state.released.wait()
        raise web.HTTPServiceUnavailable()
    if state.mode is Mode.SLOW:
        await asyncio.sleep(state.delay_s)  # emulated latency
    if state.mode is Mode.FAIL:
        return web.json_response({"error": "service unavailable"}, status=state.fail_status)
    return await handler(request)


def _authorised(state: State, project: object, api_key: object) -> bool:
    return project == state.config.project and secrets.compare_digest(
        str(api_key or ""), state.config.api_key
    )


async def transaction_detail(request: web.Request) -> web.Response:
    state = request.app[STATE]
    q = request.query
    if not _authorised(state, q.get("project"), q.get("api_key")):
        return web.json_response({"error": "invalid project or api_key"}, status=401)
    tx = state.transactions.get(q.get("order_id", ""))
    if tx is None or str(tx.amount) != q.get("amount", ""):
        return web.json_response({"error": "transaction not found"}, status=404)
    return web.json_response({"transaction": tx.detail(state.config.project)})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}') from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be an object"}')
    return data


async def transaction_create(request: web.Request) -> web.Response:
    state = request.app[STATE]
    method = request.match_info["method"]
    data = await _body(request)
    if not _authorised(state, data.get("project"), data.get("api_key")):
        return web.json_response({"error": "invalid project or api_key"}, status=401)
    if method not in METHODS:
        return web.json_response({"error": f"unknown payment method {method}"}, status=400)
    try:
        amount = int(data["amount"])
        order_id = str(data["order_id"])
    except (KeyError, TypeError, ValueError):
        return web.json_response({"error": "order_id and amount are required"}, status=400)
    tx = _add_or_get(state, order_id, amount, method)
    payment = {
        "project": state.config.project,
        "order_id": tx.order_id,
        "amount": tx.amount,
        "fee": tx.fee,
        "total_payment": tx.amount + tx.fee,
        "payment_method": tx.payment_method,
        "payment_number": tx.payment_number,
        "expired_at": (tx.created_at + timedelta(hours=1)).isoformat(),
    }
    return web.json_response({"payment": payment})


def _add_or_get(self: State, order_id: str, amount: int, method: str) -> Transaction:
    tx = self.transactions.get(order_id)
    if tx is None:
        number = (
            "00020101021226610016ID.CO.PAKASIR.WWW" + secrets.token_hex(8).upper()
            if method == "qris"
            else "8" + "".join(str(secrets.randbelow(10)) for _ in range(15))
        )
        tx = Transaction(order_id, amount, method, fee=_fee(method, amount), payment_number=number)
        self.transactions[order_id] = tx
    return tx


async def _posted_transaction(request: web.Request) -> Transaction | web.Response:
    """The transaction a POST's body names by `order_id`, or the 401 / 404 answer."""
    state = request.app[STATE]
    data = await _body(request)
    if not _authorised(state, data.get("project"), data.get("api_key")):
        return web.json_response({"error": "invalid project or api_key"}, status=401)
    tx = state.transactions.get(str(data.get("order_id")))
    if tx is None:
        return web.json_response({"error": "transaction not found"}, status=404)
    return tx


async def transaction_cancel(request: web.Request) -> web.Response:
    tx = await _posted_transaction(request)
    if isinstance(tx, web.Response):
        return tx
    tx.status = "canceled"
    return web.json_response({"success": True})


async def payment_simulation(request: web.Request) -> web.Response:
    state = request.app[STATE]
    tx = await _posted_transaction(request)
    if isinstance(tx, web.Response):
        return tx
    tx.status = "completed"
    tx.completed_at = datetime.now(UTC)
    if state.config.webhook_url:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.post(state.config.webhook_url, json=tx.detail(state.config.project)),
            ):
                pass
    return web.json_response({"success": True})


async def control_mode(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.method == "POST":
        data = await _body(request)
        try:
            state.mode = Mode(data.get("mode", state.mode))
        except ValueError:
            return web.json_response({"error": "mode: answer, fail, slow or hang"}, status=400)
        state.delay_s = float(data.get("delay", state.delay_s))
        state.fail_status = int(data.get("status", state.fail_status))
    return web.json_response(
        {"mode": state.mode.value, "delay": state.delay_s, "status": state.fail_status}
    )


async def control_requests(request: web.Request) -> web.Response:
    return web.json_response([list(r) for r in request.app[STATE].requests])


def create_app(state: State) -> web.Application:
    app = web.Application(middlewares=[_faults])
    app[STATE] = state
    app.router.add_get("/api/transactiondetail", transaction_detail)
    app.router.add_post("/api/transactioncreate/{method}", transaction_create)
    app.router.add_post("/api/transactioncancel", transaction_cancel)
    app.router.add_post("/api/paymentsimulation", payment_simulation)
    app.router.add_route("*", "/_control/mode", control_mode)
    app.router.add_get("/_control/requests", control_requests)
    return app


class PakasirEmulator:
    """`async with PakasirEmulator() as pakasir:` -> `pakasir.base_url`."""

    def __init__(self, config: PakasirConfig | None = None) -> None:
        self.config = config or PakasirConfig()
        self.state = State(self.config)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        self.state.released = asyncio.Event()
        self._runner = web.AppRunner(create_app(self.state), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://{self.config.host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        self.state.released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> PakasirEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def set_mode(self, mode: Mode | str, *, delay: float | None = None, status: int = 503) -> None:
        self.state.mode = Mode(mode)
        if delay is not None:
            self.state.delay_s = delay
        self.state.fail_status = status
        if self.state.mode is not Mode.HANG:
            self.state.released.set()
            self.state.released = asyncio.Event()

    def add_transaction(
        self, order_id: str, amount: int, *, status: str = "completed", method: str = "qris"
    ) -> Transaction:
        tx = _add_or_get(self.state, order_id, amount, method)
        tx.status = status
        if status == "completed":
            tx.completed_at = datetime.now(UTC)
        return tx

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self.state.requests)
