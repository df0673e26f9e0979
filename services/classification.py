"""Issue classification: the seed's `IssueClassification`, done right.

What the seed meant, without its bugs:

- keywords match whole words (or whole phrases of words) after case folding and accent
  folding, so "transaksi" matches but "bayar" inside "bayaran" does not; Indonesian clitics
  (`-nya`, `-ku`, `-mu`, `-lah`, `-kah`, `-pun`) may follow a keyword of four letters or more,
  so "saldonya" is "saldo";
- every rule is tried and the most severe match wins ("payment fraud" is P0: the seed returned
  P1 for it because it looked at payments before fraud);
- the category the customer picked counts as a floor (Fraud / security is P0);
- impacted users (>100 -> P1, >10 -> P2) apply to issues raised by staff.

Keywords and thresholds come from RULES_FILE section `classification`; the defaults below are
the seed's words plus the everyday Bahasa Indonesia and English a customer actually writes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from services.i18n import N_


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 is the most severe."""
        return int(self.value[1])

    @classmethod
    def parse(cls, value: str) -> Priority:
        """'p1', 'P1', 'P1_HIGH' -> Priority.P1; ValueError otherwise."""
        head = value.strip().upper()[:2]
        return cls(head)


PRIORITY_LABELS: dict[Priority, str] = {
    Priority.P0: N_("Critical"),
    Priority.P1: N_("High"),
    Priority.P2: N_("Medium"),
    Priority.P3: N_("Low"),
}


class Category(StrEnum):
    PAYMENT = "payment"
    ORDER = "order"
    ACCOUNT = "account"
    SECURITY = "security"
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.PAYMENT: N_("Payment"),
    Category.ORDER: N_("Order"),
    Category.ACCOUNT: N_("Account"),
    Category.SECURITY: N_("Fraud / security"),
    Category.OTHER: N_("Other"),
}

Source = Literal["customer", "staff"]


class KeywordRule(BaseModel):
    name: str
    priority: Priority
    category: Category
    keywords: list[str]


class ClassificationRules(BaseModel):
    """RULES_FILE section `classification`."""

    rules: list[KeywordRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    category_priority: dict[Category, Priority] = Field(
        default_factory=lambda: {
            Category.SECURITY: Priority.P0,
            Category.PAYMENT: Priority.P1,
            Category.ORDER: Priority.P2,
            Category.ACCOUNT: Priority.P2,
            Category.OTHER: Priority.P3,
        }
    )
    impact_p1_above: int = 100
    impact_p2_above: int = 10
    default_priority: Priority = Priority.P3
    clitics: list[str] = Field(default_factory=lambda: ["nya", "ku", "mu", "lah", "kah", "pun"])
    clitic_min_length: int = 4


def _words(text: str) -> list[str]:
    """A comma-separated keyword list (phrases keep their spaces)."""
    return [word.strip() for word in text.split(",") if word.strip()]


DEFAULT_RULES: tuple[KeywordRule, ...] = (
    KeywordRule(
        name="security",
        priority=Priority.P0,
        category=Category.SECURITY,
        keywords=_words(
            # the seed's words, then English, then Bahasa Indonesia
            "fraud, hack, breach, security,"
            "fraudulent, hacked, hacker, hacking, scam, scammed, scammer, phishing, stolen,"
            "unauthorized, unauthorised, account takeover, data breach, data leak, carding,"
            "penipuan, penipu, ditipu, tipu, diretas, retas, peretas, peretasan, dibobol, bobol,"
            "kebobolan, keamanan, dicuri, pencurian, tanpa izin, tanpa sepengetahuan,"
            "kebocoran data, data bocor"
        ),
    ),
    KeywordRule(
        name="outage",
        priority=Priority.P0,
        category=Category.OTHER,
        keywords=_words(
            "outage, system down, server down, site down, website down, app down,"
            "payment processing down, aplikasi down, server mati, sistem down,"
            "semua pembayaran gagal, all payments fail, all payments failing"
        ),
    ),
    KeywordRule(
        name="payment",
        priority=Priority.P1,
        category=Category.PAYMENT,
        keywords=_words(
            "payment, transaksi, bayar,"
            "payments, pay, paid, transaction, transactions, transfer, transfers, transferred,"
            "balance, refund, refunds, refunded, charged, debited, double charge,"
            "virtual account, qris, va, checkout, invoice,"
            "pembayaran, membayar, dibayar, terbayar, ditransfer, saldo, dana,"
            "pengembalian dana, terpotong, terdebet, tagihan, uang, rekening,"
            "pakasir, gopay, ovo, shopeepay, linkaja, e-wallet, ewallet"
        ),
    ),
    KeywordRule(
        name="order",
        priority=Priority.P2,
        category=Category.ORDER,
        keywords=_words(
            "order, orders, package, parcel, delivery, shipping, shipment, courier, tracking,"
            "wrong item, not arrived,"
            "pesanan, paket, pengiriman, kurir, resi, barang, belum sampai, belum diterima,"
            "salah kirim"
        ),
    ),
    KeywordRule(
        name="account",
        priority=Priority.P2,
        category=Category.ACCOUNT,
        keywords=_words(
            "account, login, log in, password, otp, locked, verification,"
            "akun, kata sandi, sandi, terkunci, diblokir, verifikasi, tidak bisa masuk,"
            "gagal masuk"
        ),
    ),
)


@dataclass(frozen=True)
class Match:
    rule: str
    keyword: str
    priority: Priority
    category: Category


@dataclass(frozen=True)
class Classification:
    priority: Priority
    category: Category
    reasons: tuple[str, ...]
    matches: tuple[Match, ...] = ()

    def as_details(self) -> dict[str, object]:
        """What the timeline stores under the 'classified' event."""
        return {
            "priority": self.priority.value,
            "category": self.category.value,
            "reasons": list(self.reasons),
        }


_WORD = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    """Case- and accent-folded: 'Pémbayaran' -> 'pembayaran'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


class Classifier:
    """The keyword rules compiled once: first word of a phrase -> the phrases starting with it."""

    def __init__(self, rules: ClassificationRules | None = None) -> None:
        self.rules = rules or ClassificationRules()
        self._index: dict[str, list[tuple[tuple[str, ...], KeywordRule, str]]] = {}
        for rule in self.rules.rules:
            for keyword in rule.keywords:
                phrase = tuple(words(keyword))
                if phrase:
                    self._index.setdefault(phrase[0], []).append((phrase, rule, keyword))
        self._clitics = tuple(sorted(self.rules.clitics, key=len, reverse=True))

    def _stems(self, word: str) -> Iterable[str]:
        yield word
        for clitic in self._clitics:
            stem = word[: -len(clitic)]
            if word.endswith(clitic) and len(stem) >= self.rules.clitic_min_length:
                yield stem

    def matches(self, text: str) -> list[Match]:
        tokens = words(text)
        found: dict[str, Match] = {}
        for i, token in enumerate(tokens):
            for stem in self._stems(token):
                for phrase, rule, keyword in self._index.get(stem, ()):
                    if len(phrase) > 1:
                        tail = tokens[i + 1 : i + len(phrase)]
                        last = tail[-1] if tail else ""
                        if len(tail) != len(phrase) - 1 or tuple(tail[:-1]) != phrase[1:-1]:
                            continue
                        if phrase[-1] not in self._stems(last):
                            continue
                    found.setdefault(
                        f"{rule.name}:{keyword}",
                        Match(rule.name, keyword, rule.priority, rule.category),
                    )
        return sorted(found.values(), key=lambda m: (m.priority.rank, m.rule, m.keyword))

    def classify(
        self,
        text: str,
        *,
        category: Category | None = None,
        source: Source = "customer",
        impacted_users: int | None = None,
    ) -> Classification:
        """The most severe of: keyword rules, the picked category, staff-reported impact."""
        rules = self.rules
        candidates: list[tuple[Priority, str]] = [(rules.default_priority, "default")]
        found = self.matches(text)
        for match in found:
            candidates.append((match.priority, f"keyword:{match.rule}:{match.keyword}"))
        if category is not None:
            floor = rules.category_priority.get(category, rules.default_priority)
            candidates.append((floor, f"category:{category.value}"))
        if source == "staff" and impacted_users is not None:
            if impacted_users > rules.impact_p1_above:
                candidates.append((Priority.P1, f"impact:{impacted_users}"))
            elif impacted_users > rules.impact_p2_above:
                candidates.append((Priority.P2, f"impact:{impacted_users}"))
        best = min(p.rank for p, _ in candidates)
        priority = Priority(f"P{best}")
        reasons = tuple(r for p, r in candidates if p == priority and r != "default") or (
            "default",
        )
        if category is None:
            category = found[0].category if found else Category.OTHER
        return Classification(priority, category, reasons, tuple(found))


_compiled: dict[int, tuple[ClassificationRules, Classifier]] = {}


def classifier_for(rules: ClassificationRules) -> Classifier:
    """Compiled once per rules object (Rules.section caches the object, so ids are stable)."""
    held = _compiled.get(id(rules))
    if held is None or held[0] is not rules:
        held = (rules, Classifier(rules))
        _compiled[id(rules)] = held
    return held[1]


def classify(
    text: str,
    *,
    category: Category | None = None,
    source: Source = "customer",
    impacted_users: int | None = None,
    rules: ClassificationRules | None = None,
) -> Classification:
    classifier = classifier_for(rules) if rules is not None else _default_classifier()
    return classifier.classify(
        text, category=category, source=source, impacted_users=impacted_users
    )


@lru_cache(maxsize=1)
def _default_classifier() -> Classifier:
    return Classifier(ClassificationRules())
