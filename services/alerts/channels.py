"""Secondary channels named in the plan: email (SMTP), Slack (incoming webhook), SMS (a generic
HTTP webhook). Each send is time-boxed; a failing channel is logged and reported, never raised,
and runs only after the Telegram message is safely in the outbox."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import aiohttp
from loguru import logger

from services.alerts.config import EmailChannel, SecondaryChannels, SlackChannel, SmsChannel

SMS_LIMIT = 480


@dataclass(frozen=True)
class ChannelResult:
    channel: str
    ok: bool
    error: str | None = None


def _send_mail(config: EmailChannel, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Subject"] = subject.replace("\n", " ")[:200]
    message.set_content(body)
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.username and config.password:
            smtp.login(config.username, config.password)
        smtp.send_message(message)


async def send_email(config: EmailChannel, subject: str, body: str) -> None:
    if not config.recipients:
        return
    async with asyncio.timeout(config.timeout_s):
        await asyncio.to_thread(_send_mail, config, subject, body)


async def _post(url: str, payload: object, headers: dict[str, str], timeout_s: float) -> None:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with (
        asyncio.timeout(timeout_s),
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, json=payload, headers=headers) as response,
    ):
        if response.status >= 300:
            raise RuntimeError(f"HTTP {response.status}")


async def send_slack(config: SlackChannel, text: str) -> None:
    await _post(config.webhook_url, {"text": text}, {}, config.timeout_s)


async def send_sms(config: SmsChannel, text: str) -> None:
    short = text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1] + "…"
    await _post(
        config.url, {"to": config.recipients, "text": short}, config.headers, config.timeout_s
    )


async def deliver(
    channels: SecondaryChannels, wanted: list[str], subject: str, body: str
) -> list[ChannelResult]:
    """Send to every wanted and configured channel at once; report each outcome."""
    jobs: dict[str, asyncio.Task[None]] = {}
    if "email" in wanted and channels.email is not None:
        jobs["email"] = asyncio.create_task(send_email(channels.email, subject, body))
    if "slack" in wanted and channels.slack is not None:
        jobs["slack"] = asyncio.create_task(send_slack(channels.slack, body))
    if "sms" in wanted and channels.sms is not None:
        jobs["sms"] = asyncio.create_task(send_sms(channels.sms, body))
    results: list[ChannelResult] = []
    for name, task in jobs.items():
        try:
            await task
            results.append(ChannelResult(name, True))
        except (Exception, TimeoutError) as exc:  # a secondary channel never stops the rest
            logger.warning("alert channel {} failed: {}", name, type(exc).__name__)
            results.append(ChannelResult(name, False, f"{type(exc).__name__}: {exc}"[:200]))
    return results
