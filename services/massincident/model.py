"""A customer-facing incident and who it answers (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from services.classification import (
    Category,
    ClassificationRules,
    Classifier,
    KeywordRule,
    Priority,
    classify,
)
from services.tickets.model import ticket_number


@dataclass(frozen=True)
class PublicIncident:
    ticket_id: int
    title: str
    priority: str
    notice_id: str | None
    notice_en: str | None
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    everyone: bool
    declared_by: int | None
    declared_at: datetime
    ended_at: datetime | None
    support_card_id: int | None
    admin_card_id: int | None
    last_update: str | None
    last_update_at: datetime | None
    digest_outbox_id: int | None
    digest_lines: int
    # the incident's ticket: its topic in the support group
    support_chat_id: int | None = None
    topic_id: int | None = None
    topic_outbox_id: int | None = None

    @property
    def number(self) -> str:
        return ticket_number(self.ticket_id)

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def notice_for(self, language: str | None) -> tuple[str, bool]:
        """The notice in `language` ('en' or anything else: 'id'); True when it fell back to
        the other language because that one is missing."""
        own, other = (
            (self.notice_en, self.notice_id)
            if language == "en"
            else (self.notice_id, self.notice_en)
        )
        if own:
            return own, False
        return other or self.title, True

    @property
    def missing_language(self) -> str | None:
        if not self.notice_id:
            return "id"
        if not self.notice_en:
            return "en"
        return None


@lru_cache(maxsize=64)
def _keyword_classifier(keywords: tuple[str, ...]) -> Classifier:
    rule = KeywordRule(
        name="incident", priority=Priority.P3, category=Category.OTHER, keywords=list(keywords)
    )
    return Classifier(ClassificationRules(rules=[rule]))


def matches(
    incident: PublicIncident,
    text: str,
    *,
    category: str | None = None,
    rules: ClassificationRules | None = None,
) -> bool:
    """Does a customer's message (and the category they picked, if any) belong to the incident?
    Whole words, case and accents folded, as the classifier reads them; "everyone" takes all."""
    if not incident.open:
        return False
    if incident.everyone:
        return True
    if category is not None and category in incident.categories:
        return True
    if incident.categories and text.strip():
        found = classify(text, rules=rules)
        if any(m.category.value in incident.categories for m in found.matches):
            return True
    return bool(incident.keywords and _keyword_classifier(incident.keywords).matches(text))


def first_match(
    incidents: list[PublicIncident],
    text: str,
    *,
    category: str | None = None,
    rules: ClassificationRules | None = None,
) -> PublicIncident | None:
    """The newest open incident the message belongs to."""
    for incident in sorted(incidents, key=lambda i: i.declared_at, reverse=True):
        if matches(incident, text, category=category, rules=rules):
            return incident
    return None


def parse_keywords(text: str) -> tuple[str, ...]:
    """'pembayaran gagal, qris' -> ('pembayaran gagal', 'qris'); capped, deduplicated."""
    seen: dict[str, None] = {}
    for word in text.split(","):
        word = " ".join(word.split())[:60]
        if word:
            seen.setdefault(word.casefold(), None)
    return tuple(seen)[:50]


def guess_categories(title: str, rules: ClassificationRules | None = None) -> tuple[str, ...]:
    """The categories an incident's title speaks of ('Pakasir down, payments fail' -> payment)."""
    found = classify(title, rules=rules)
    cats = [m.category.value for m in found.matches if m.category is not Category.OTHER]
    return tuple(dict.fromkeys(cats))
