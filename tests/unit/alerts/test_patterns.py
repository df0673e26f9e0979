"""Patterns from outside run on RE2, in linear time: the pathological silence of issue 12 is
answered (correctly) instead of freezing the bot, and what RE2 cannot compile is refused with
RE2's reason, in /silence and in RULES_FILE."""

from __future__ import annotations

import pytest

from services.alerts.matchers import BadMatcher, BadSilence, Matcher, parse_matcher
from services.alerts.matchers import parse_silence_args as silence_args
from services.patterns import BadPattern, compile_pattern
from services.rules import Rules, RulesError
from services.tickets.config import SupportRules, check_reference

CATASTROPHIC = "(a+)+$"  # exponential for a backtracking engine on "aaa…a!"


def test_the_catastrophic_silence_and_the_49_a_alert_are_answered_by_re2() -> None:
    silence = parse_matcher(f'alertname=~"{CATASTROPHIC}"')
    pattern = compile_pattern(silence.value)
    assert pattern.engine == "re2"
    assert type(pattern.compiled).__module__.split(".")[0] == "re2"  # not Python's backtracking re
    assert silence.matches({"alertname": "a" * 49 + "!"}) is False
    assert silence.matches({"alertname": "a" * 49}) is True
    assert parse_matcher(f'alertname!~"{CATASTROPHIC}"').matches({"alertname": "a" * 49 + "!"})


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("web-.*", "web-1", True),
        ("web", "web-1", False),  # whole values only, as Alertmanager anchors ^(?:…)$
        ("a|b", "ab", False),
        ("a)|(b", None, None),  # cannot slip out of the anchors: RE2 refuses the parenthesis
        ("(?i)CPU.*", "cpuhigh", True),
        ("db-[0-9]+", "db-12", True),
        (".*", "", True),
    ],
)
def test_patterns_match_whole_values_like_alertmanager(
    pattern: str, value: str | None, matches: bool | None
) -> None:
    if value is None:
        with pytest.raises(BadPattern):
            compile_pattern(pattern)
        return
    assert compile_pattern(pattern).fullmatch(value) is matches


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(?=web)web-1", "invalid perl operator"),  # lookahead: backtracking only
        (r"(a)\1", "invalid escape sequence"),  # backreference
        ("(unclosed", "missing )"),
        ("a{2000}", "invalid repetition size"),
    ],
)
def test_what_re2_cannot_compile_is_refused_with_its_reason(pattern: str, why: str) -> None:
    with pytest.raises(BadPattern) as refused:
        compile_pattern(pattern)
    assert why in refused.value.reason
    quoted = pattern.replace("\\", "\\\\")  # inside "…" a backslash is escaped
    with pytest.raises(BadMatcher) as bad:
        parse_matcher(f'instance=~"{quoted}"')
    assert why in bad.value.reason
    with pytest.raises(BadSilence) as silence:
        silence_args(f'instance=~"{quoted}" 1h deploy')
    assert silence.value.reason == BadSilence.BAD_PATTERN
    assert silence.value.detail == pattern and why in silence.value.why


def test_a_matcher_that_does_not_parse_is_still_a_bad_matcher_not_a_bad_pattern() -> None:
    with pytest.raises(BadSilence) as silence:
        silence_args("=value 1h")
    assert silence.value.reason == BadSilence.BAD_MATCHER


def test_a_silence_stored_before_re2_loads_and_matches_nothing() -> None:
    stored = Matcher.from_json({"name": "instance", "op": "=~", "value": "(?=web)web-1"})
    assert stored.matches({"instance": "web-1"}) is False
    negated = Matcher.from_json({"name": "instance", "op": "!~", "value": "(?=web)web-1"})
    assert negated.matches({"instance": "db-1"}) is False  # mutes nothing either way


def test_a_lone_surrogate_in_a_label_does_not_break_matching() -> None:
    assert parse_matcher('instance=~"db-.*"').matches({"instance": "db-\ud800"})


def test_a_rules_file_with_a_pattern_re2_cannot_compile_is_refused_naming_the_field() -> None:
    rules = Rules(
        {
            "support": {
                "reference_shapes": [
                    {"name": "Order", "pattern": "(?<=ORD)-[0-9]+", "example": "ORD-1"}
                ]
            }
        },
        source="rules.yaml",
    )
    with pytest.raises(RulesError) as refused:
        rules.section("support", SupportRules)
    message = str(refused.value)
    assert "support.reference_shapes.0.pattern" in message
    assert "RE2" in message and "invalid perl operator" in message


def test_reference_shapes_match_on_re2() -> None:
    shapes = Rules(
        {"support": {"reference_shapes": [{"name": "Lot", "pattern": "(A+)+$", "example": "AA"}]}}
    ).section("support", SupportRules)  # matched on the upper-cased reference
    assert check_reference("a" * 49 + "!", shapes).ok is False
    assert check_reference("a" * 49, shapes).ok is True
    assert check_reference("ord-20261102-7f3k9q", SupportRules()).shape == "QuickCart order"
