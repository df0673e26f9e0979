"""Real-world mail as the desk reads it: who wrote, their words as text, what they attached,
which ticket they answer, and whether a machine sent it (then it must not be answered)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.email.compose import rating_in
from services.email.parse import guess_language, html_to_text, parse, without_quote

FIXTURES = Path(__file__).parent / "fixtures"


def mail(name: str):  # type: ignore[no-untyped-def]
    return parse((FIXTURES / name).read_bytes())


def test_gmail_plain_text_is_preferred_over_its_html_twin() -> None:
    m = mail("gmail.eml")
    assert m.sender == "budi.santoso@gmail.com"
    assert m.sender_name == "Budi Santoso"
    assert m.subject == "Pembayaran QRIS gagal tapi saldo terpotong"
    assert m.message_id == "<CAJ8f2uZ9xN0Q4kYh7Lr3e1d+VbW5pTqS6Fz=wXy0aBc1dE@mail.gmail.com>"
    assert "ORD-20261102-7F3K9Q" in m.text
    assert '"menunggu\npembayaran"' in m.text  # the plain part, not the HTML one
    assert "<div" not in m.text and "&quot;" not in m.text
    assert m.attachments == ()
    assert m.automatic is None
    assert m.ticket_number is None and m.thread_ids == ()


def test_outlook_html_only_becomes_readable_text_and_keeps_the_pdf() -> None:
    m = mail("outlook.eml")
    assert m.sender == "alice.wong@outlook.com"
    assert m.message_id.startswith("<SG2PR06MB52311A7C2B8E4F0D9C3B1E62A4B92@")
    assert m.text.startswith("Hello,")
    assert "the refund has not arrived" in m.text
    assert "(https://quickcart.id/orders/ORD-20261101-AB12CD)" in m.text  # the link kept
    assert "MsoNormal" not in m.text and "Calibri" not in m.text  # the style dropped
    assert "\n\nThanks," in m.text or "\nThanks," in m.text
    [pdf] = m.attachments
    assert (pdf.filename, pdf.content_type) == ("receipt-AB12CD.pdf", "application/pdf")
    assert pdf.data.startswith(b"%PDF-1.4") and not pdf.inline


def test_apple_mail_quoted_printable_and_an_encoded_subject() -> None:
    m = mail("apple_mail.eml")
    assert m.subject == "Akun saya terkunci – tidak bisa login"
    assert "“Lupa kata sandi”" in m.text
    assert "sudah coba “Lupa" in m.text  # soft line breaks joined
    assert "Dikirim dari iPhone saya" in m.text


def test_an_inline_image_is_kept_as_an_attachment_with_its_name() -> None:
    m = mail("inline_image.eml")
    assert "saat checkout muncul error" in m.text
    [image] = m.attachments
    assert image.filename == "checkout-error.png"
    assert image.content_type == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert image.inline


def test_a_forwarded_message_keeps_the_original_inside_the_text() -> None:
    m = mail("forwarded.eml")
    assert m.sender == "admin@tokomakmur.co.id"
    assert m.text.startswith("Tim support, pelanggan kami")
    assert "---------- Forwarded message ----------" in m.text
    assert "From: Pakasir <noreply@pakasir.com>" in m.text
    assert "Pembayaran INV2026110201 sebesar Rp 250.000 diterima 2 kali" in m.text
    assert m.automatic is None  # forwarded by a person, though the original was automatic


def test_indonesian_quoted_printable_reply_names_its_ticket_and_thread() -> None:
    m = mail("indonesian_qp.eml")
    assert m.sender_name == "Dewi Lestari"
    assert m.subject == "Re: [QC-000042] Pesanan belum sampai – mohon dicek"
    assert m.ticket_number == 42
    assert m.in_reply_to == ("<qc.1793600000.42.1@quickcart.id>",)
    assert m.thread_ids[0] == "<qc.1793600000.42.1@quickcart.id>"
    assert "<20261102090000.1111@mail.co.id>" in m.thread_ids
    assert "Rp\u00a0320.000" in m.text
    assert "nomor resi JNE 0123456789" in m.text
    own = without_quote(m.text)
    assert own.endswith("Kapan bisa dikirim ulang atau dikembalikan?")
    assert "Halo Dewi" not in own and "menulis:" not in own
    assert guess_language(own) == "id"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("out_of_office.eml", "auto-submitted: auto-generated"),
        ("bounce.eml", "delivery report"),
    ],
)
def test_machines_are_recognised_so_no_loop_starts(name: str, reason: str) -> None:
    assert mail(name).automatic == reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Precedence: bulk\n", "precedence: bulk"),
        ("Precedence: auto_reply\n", "precedence: auto_reply"),
        ("X-Autoreply: yes\n", "x-autoreply: yes"),
        ("Auto-Submitted: auto-replied\n", "auto-submitted: auto-replied"),
        ("Return-Path: <>\n", "bounce (empty return path)"),
        ("List-Id: <promo.shop.example>\n", "mailing list"),
        ("Auto-Submitted: no\n", None),
        ("", None),
    ],
)
def test_loop_headers(headers: str, reason: str | None) -> None:
    raw = f"From: a@example.com\n{headers}Subject: x\n\nhello\n".encode()
    assert parse(raw).automatic == reason


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("MAILER-DAEMON@mx.example.com", "sender: mailer-daemon"),
        ("postmaster@example.com", "sender: postmaster"),
        ("no-reply@shop.example", "sender: no-reply"),
        ("budi@example.com", None),
    ],
)
def test_machine_senders(sender: str, reason: str | None) -> None:
    assert parse(f"From: {sender}\nSubject: x\n\nhi\n".encode()).automatic == reason


def test_html_to_text_escapes_nothing_and_drops_scripts() -> None:
    html = "<p>a &lt;b&gt; &amp; c</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(html) == "a <b> & c\n\n- one\n\n- two"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, my payment failed and the order is still pending. Please help.", "en"),
        ("Selamat pagi, pembayaran saya gagal tapi saldo terpotong.", "id"),
        ("ORD-20261102-7F3K9Q ???", "id"),  # nothing to go by: Indonesian
        ("", "id"),
    ],
)
def test_the_language_is_guessed_indonesian_by_default(text: str, language: str) -> None:
    assert guess_language(text) == language


def test_a_message_without_a_message_id_gets_the_fallback() -> None:
    m = parse(b"From: x@example.com\nSubject: s\n\nhi\n", fallback_id="<stored-1@q>")
    assert m.message_id == "<stored-1@q>"


def test_a_message_with_a_broken_charset_is_still_read() -> None:
    raw = b"From: x@example.com\nSubject: s\nContent-Type: text/plain; charset=x-nope\n\nhal\xe9\n"
    assert parse(raw).text.startswith("hal")


@pytest.mark.parametrize(
    ("text", "stars"),
    [
        ("5", 5),
        (" 4/5 ", 4),
        ("5 bintang", 5),
        ("3 stars!", 3),
        ("6", None),
        ("5 tapi lambat", None),
    ],
)
def test_a_reply_that_is_only_a_rating(text: str, stars: int | None) -> None:
    assert rating_in(text) == stars


UNREADABLE = [
    (
        b"From: a@b.c\nSubject: x\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data"
        b"\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\n",
        "encrypted (S/MIME or PGP)",
    ),
    (
        b'From: a@b.c\nSubject: x\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: application/ms-tnef\n"
        b'Content-Disposition: attachment; filename="winmail.dat"\n\nTNEF\n--b--\n',
        "only Outlook's winmail.dat (TNEF)",
    ),
    (
        b'From: a@b.c\nSubject: x\nContent-Type: text/plain; charset="x-mystery"\n'
        b"Content-Transfer-Encoding: base64\n\n!!!!\n",
        "nothing in its body could be decoded",
    ),
    (b"From: a@b.c\nSubject: Refund\n\n", None),  # an empty body with a subject: readable
    (b"From: a@b.c\nSubject: x\n\nHalo, pesanan saya belum sampai.\n", None),
]


@pytest.mark.parametrize(("raw", "why"), UNREADABLE)
def test_mail_nobody_could_read_is_told_apart(raw: bytes, why: str | None) -> None:
    assert parse(raw).unreadable == why


@pytest.mark.parametrize(
    ("header", "language"),
    [("Content-Language: en-US", "en"), ("Content-Language: id-ID", "id"),
     ("Accept-Language: in-ID, en-US", "id"), ("Content-Language: de-DE", None)],
)  # fmt: skip
def test_the_mail_clients_language_header_is_a_hint(header: str, language: str | None) -> None:
    assert parse(f"From: a@b.c\n{header}\n\nx\n".encode()).language == language


def test_the_envelope_of_a_broken_mail_still_names_its_sender() -> None:
    from services.email.parse import envelope

    found = envelope(
        b"From: =?x-broken?q?Budi?= <Budi@Example.com>\nSubject: =?utf-8?b?UGVzYW5hbg==?=\n"
        b"Auto-Submitted: auto-replied\n\n\xff\xfe"
    )
    assert (found.sender, found.subject) == ("budi@example.com", "Pesanan")
    assert found.automatic == "auto-submitted: auto-replied"
