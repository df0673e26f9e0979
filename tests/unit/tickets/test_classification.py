"""Classification of what customers and staff really write, in Bahasa Indonesia and English."""

from __future__ import annotations

import pytest

from services.classification import (
    Category,
    ClassificationRules,
    Classifier,
    KeywordRule,
    Priority,
    classify,
    fold,
)
from services.rules import Rules

P0, P1, P2, P3 = Priority.P0, Priority.P1, Priority.P2, Priority.P3

# (message, expected priority, expected category when the customer picked none)
CUSTOMER_MESSAGES: list[tuple[str, Priority, Category]] = [
    # payments, Bahasa Indonesia
    ("Pembayaran saya via QRIS gagal tapi saldo sudah terpotong", P1, Category.PAYMENT),
    ("Sudah bayar lewat VA BCA dari tadi pagi, status masih menunggu", P1, Category.PAYMENT),
    ("transaksinya pending terus kak, tolong dicek", P1, Category.PAYMENT),
    ("Saya sudah transfer Rp250.000 tapi pesanan belum diproses", P1, Category.PAYMENT),
    ("Kapan refund saya masuk? Sudah 5 hari", P1, Category.PAYMENT),
    ("Saldonya berkurang dua kali untuk satu pesanan", P1, Category.PAYMENT),
    ("Tagihan virtual account kadaluarsa padahal sudah dibayar", P1, Category.PAYMENT),
    ("Uang saya belum kembali setelah pembatalan", P1, Category.PAYMENT),
    ("PEMBAYARAN GAGAL!!!", P1, Category.PAYMENT),
    ("Pémbayaran lewat GoPay tidak terkonfirmasi", P1, Category.PAYMENT),
    # payments, English
    ("My payment went through but the order still says unpaid", P1, Category.PAYMENT),
    ("I was charged twice for the same checkout", P1, Category.PAYMENT),
    ("The QRIS code expired before I could pay", P1, Category.PAYMENT),
    ("Where is my refund? It has been a week.", P1, Category.PAYMENT),
    ("Transaction ID PKS-88123 shows failed but my bank says paid", P1, Category.PAYMENT),
    # fraud and security: P0, even together with payment words (the seed said P1)
    ("payment fraud", P0, Category.SECURITY),
    ("Ada transaksi tanpa izin di akun saya", P0, Category.SECURITY),
    ("Akun saya diretas dan saldo hilang", P0, Category.SECURITY),
    ("Saya kena penipuan, penjual minta transfer di luar aplikasi", P0, Category.SECURITY),
    ("Someone hacked my account and changed the email", P0, Category.SECURITY),
    ("I got a phishing SMS pretending to be QuickCart asking for my OTP", P0, Category.SECURITY),
    ("There is a fraudulent charge on my card from your shop", P0, Category.SECURITY),
    ("Kartu kredit saya dibobol setelah belanja di sini", P0, Category.SECURITY),
    ("Is this a data breach? My address was leaked", P0, Category.SECURITY),
    ("Penipunya pakai nama QuickCart di Instagram", P0, Category.SECURITY),
    ("Website down, cannot open anything", P0, Category.OTHER),
    ("Semua pembayaran gagal sejak jam 10", P0, Category.OTHER),
    # orders and accounts: P2
    ("Pesanan saya belum sampai padahal resi sudah 7 hari", P2, Category.ORDER),
    ("Barang yang datang salah kirim, warnanya beda", P2, Category.ORDER),
    ("My package has not arrived and tracking is stuck", P2, Category.ORDER),
    ("I received the wrong item in my order", P2, Category.ORDER),
    ("Akun saya terkunci setelah salah kata sandi tiga kali", P2, Category.ACCOUNT),
    ("I can't log in, the OTP never arrives", P2, Category.ACCOUNT),
    ("Tidak bisa masuk ke aplikasi sejak update", P2, Category.ACCOUNT),
    # nothing urgent: P3
    ("Apakah ada promo ongkir minggu ini?", P3, Category.OTHER),
    ("Could you add a dark mode to the app?", P3, Category.OTHER),
    ("Terima kasih, pelayanannya cepat sekali", P3, Category.OTHER),
    # near misses: a keyword inside another word is not the keyword
    ("Berapa bayaran untuk jadi mitra penjual?", P3, Category.OTHER),
    ("Vanya here, I love the new design", P3, Category.OTHER),
    ("The product display on the home page is blurry", P3, Category.OTHER),
    ("Are you hiring for the hackathon next month?", P3, Category.OTHER),
    ("Saya mau kirim pesan ke penjual, bagaimana caranya?", P3, Category.OTHER),
    ("Java developer position still open?", P3, Category.OTHER),
    ("Apakah ada lowongan di bagian evaluasi produk?", P3, Category.OTHER),
]


@pytest.mark.parametrize(("message", "priority", "category"), CUSTOMER_MESSAGES)
def test_customer_message_gets_the_expected_priority(
    message: str, priority: Priority, category: Category
) -> None:
    result = classify(message)
    assert (result.priority, result.category) == (priority, category), result.reasons


def test_the_table_has_at_least_forty_messages_in_both_languages() -> None:
    assert len(CUSTOMER_MESSAGES) >= 40
    assert {P0, P1, P2, P3} == {p for _, p, _ in CUSTOMER_MESSAGES}


def test_payment_fraud_is_p0_because_the_most_severe_rule_wins() -> None:
    result = classify("payment fraud")
    assert result.priority is P0
    assert result.reasons == ("keyword:security:fraud",)
    assert [m.rule for m in result.matches] == ["security", "payment"]


@pytest.mark.parametrize(
    ("picked", "message", "priority"),
    [
        (Category.SECURITY, "Something odd happened", P0),
        (Category.PAYMENT, "It does not work", P1),
        (Category.ORDER, "Question", P2),
        (Category.ACCOUNT, "Tolong bantu", P2),
        (Category.OTHER, "Tolong bantu", P3),
        # the picked category is a floor, keywords can raise it
        (Category.ORDER, "Saya ditipu penjual", P0),
        (Category.OTHER, "pembayaran gagal", P1),
    ],
)
def test_the_picked_category_counts(picked: Category, message: str, priority: Priority) -> None:
    result = classify(message, category=picked)
    assert result.priority is priority
    assert result.category is picked


@pytest.mark.parametrize(
    ("impacted", "source", "priority"),
    [
        (500, "staff", P1),
        (101, "staff", P1),
        (100, "staff", P2),
        (11, "staff", P2),
        (10, "staff", P3),
        (0, "staff", P3),
        # impact is a staff assessment; a customer cannot raise it by claiming it
        (500, "customer", P3),
    ],
)
def test_impacted_users_apply_to_staff_raised_issues(
    impacted: int, source: str, priority: Priority
) -> None:
    result = classify("Halaman lambat", source=source, impacted_users=impacted)  # type: ignore[arg-type]
    assert result.priority is priority


def test_a_security_issue_affecting_many_stays_p0() -> None:
    assert classify("breach", source="staff", impacted_users=1000).priority is P0


def test_folding_removes_case_and_accents() -> None:
    assert fold("PÉMBAYARAN Çafé") == "pembayaran cafe"


def test_clitics_only_follow_longer_keywords() -> None:
    classifier = Classifier()
    assert [m.keyword for m in classifier.matches("saldonya")] == ["saldo"]
    assert classifier.matches("vanya") == []  # "va" is too short to take "-nya"


def test_phrases_match_whole_words_in_sequence() -> None:
    classifier = Classifier()
    assert classifier.matches("ada transaksi TANPA   izin")[0].keyword == "tanpa izin"
    assert all(m.keyword != "tanpa izin" for m in classifier.matches("tanpa izinkan"))


def test_keywords_come_from_the_rules_file() -> None:
    rules = Rules(
        {
            "classification": {
                "rules": [
                    {
                        "name": "outage",
                        "priority": "P0",
                        "category": "other",
                        "keywords": ["mati total"],
                    }
                ]
            }
        }
    )
    section = rules.section("classification", ClassificationRules)
    assert classify("Aplikasi mati total", rules=section).priority is P0
    # the file replaced the default keyword list
    assert classify("pembayaran gagal", rules=section).priority is P3


def test_priority_parse_accepts_the_seed_names() -> None:
    assert Priority.parse("P1_HIGH") is P1
    assert Priority.parse("p0") is P0
    with pytest.raises(ValueError):
        Priority.parse("P7")


def test_default_rules_are_all_reachable() -> None:
    classifier = Classifier()
    for rule in ClassificationRules().rules:
        for keyword in rule.keywords:
            assert any(m.keyword == keyword for m in classifier.matches(keyword)), keyword


def test_custom_rule_model_validates() -> None:
    rule = KeywordRule(name="x", priority=P2, category=Category.ORDER, keywords=["a b"])
    assert rule.priority is P2
