"""The channel's settings and the replies' shape (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from services.email.compose import reply, reply_subject, telegram_html_to_text
from services.email.config import EmailConfig, EmailConfigError, server
from services.i18n import use_locale


def test_a_mailbox_url_with_an_address_as_user_and_a_password_with_symbols() -> None:
    imap = server("imaps://support%40quickcart.id:p%40ss%2Fw0rd@mail.quickcart.id/Support", "imap")
    assert (imap.tls, imap.host, imap.port) == (True, "mail.quickcart.id", 993)
    assert (imap.user, imap.password, imap.path) == ("support@quickcart.id", "p@ss/w0rd", "Support")
    assert "p@ss" not in repr(imap)
    assert server("imap://u:p@127.0.0.1:1143", "imap").path == "INBOX"
    assert server("smtp://relay.example", "smtp").port == 25
    assert server("smtps://u:p@relay.example", "smtp").port == 465
    with pytest.raises(EmailConfigError):
        server("http://mail.example", "imap")


def test_the_channel_is_off_unless_all_three_are_set() -> None:
    assert EmailConfig.from_urls("support@quickcart.id", "imap://h", None) is None
    assert EmailConfig.from_urls(None, "imap://h", "smtp://h") is None
    on = EmailConfig.from_urls("Support@QuickCart.id", "imap://u:p@h/INBOX", "smtp://h")
    assert on is not None and on.address == "support@quickcart.id" and on.domain == "quickcart.id"


def test_settings_check_the_urls_and_keep_their_passwords_out_of_logs() -> None:
    settings = Settings(
        SUPPORT_EMAIL="support@quickcart.id",
        IMAP_URL="imaps://support%40quickcart.id:imap-secret-1@mail.quickcart.id/INBOX",
        SMTP_URL="smtps://support%40quickcart.id:smtp-secret-2@mail.quickcart.id:465",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert {"imap-secret-1", "smtp-secret-2"} <= set(settings.secrets)
    with pytest.raises(ValidationError, match="IMAP_URL"):
        Settings(IMAP_URL="https://mail.example", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="SUPPORT_EMAIL"):
        Settings(SUPPORT_EMAIL="support at quickcart", _env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Program afiliasi", "Re: [QC-000042] Program afiliasi"),
        ("Re: Program afiliasi", "Re: [QC-000042] Program afiliasi"),
        ("RE: Fwd: [QC-000042] Program afiliasi", "Re: [QC-000042] Program afiliasi"),
        ("Balas: Program afiliasi", "Re: [QC-000042] Program afiliasi"),
        ("", "Re: [QC-000042] Your QuickCart support request"),
    ],
)
def test_every_reply_names_its_ticket_once_in_the_subject(subject: str, expected: str) -> None:
    with use_locale("en"):
        assert reply_subject(42, subject) == expected


def test_the_desks_telegram_html_becomes_plain_text() -> None:
    html = "Tiket Anda <b>QC-000001</b>: a &lt;b&gt; &amp; c\n\n— <i>Rina</i>, Dukungan QuickCart"
    assert telegram_html_to_text(html) == (
        "Tiket Anda QC-000001: a <b> & c\n\n— Rina, Dukungan QuickCart"
    )


def test_a_reply_carries_the_thread_and_asks_autoresponders_to_stay_quiet() -> None:
    message = reply(
        sender="support@quickcart.id", display_name="QuickCart Support",
        recipient="budi@example.com", subject="Re: [QC-000001] x", body="halo\n",
        message_id="<a@quickcart.id>", in_reply_to="<b@example.com>",
        references=tuple(f"<r{n}@example.com>" for n in range(30)),
        now=datetime(2026, 11, 2, 3, 0, tzinfo=UTC),
    )  # fmt: skip
    assert message["In-Reply-To"] == "<b@example.com>"
    assert len(message["References"].split()) == 20  # the newest 20, not an endless header
    assert message["References"].split()[-1] == "<r29@example.com>"
    assert message["X-Auto-Response-Suppress"] == "All"
