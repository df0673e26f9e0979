"""Alertmanager matchers and /silence arguments, table-driven."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.alerts.durations import BadDuration, format_duration, parse_duration
from services.alerts.matchers import (
    BadMatcher,
    BadSilence,
    Matcher,
    parse_matcher,
    parse_matchers,
    parse_silence_args,
)

LABELS = {"alertname": "CpuHigh", "instance": "web-1", "severity": "warning"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ('alertname="CpuHigh"', True),
        ("alertname=CpuHigh", True),
        ("alertname=DiskFull", False),
        ('instance!="web-2"', True),
        ('instance!="web-1"', False),
        ('instance=~"web-.*"', True),
        ('instance=~"web"', False),  # anchored: must match the whole value
        ('instance!~"db-.*"', True),
        ('instance!~"web-[0-9]"', False),
        ('team=""', True),  # a missing label is the empty string
        ('team!=""', False),
        ('team=~".*"', True),
    ],
)
def test_each_matcher_kind_matches_like_alertmanager(text: str, matches: bool) -> None:
    assert parse_matcher(text).matches(LABELS) is matches


def test_braces_commas_and_escaped_quotes_parse() -> None:
    found = parse_matchers(r'{alertname="Cpu High", note="say \"hi\"", x!~"a|b"}')
    assert found == [
        Matcher("alertname", "=", "Cpu High"),
        Matcher("note", "=", 'say "hi"'),
        Matcher("x", "!~", "a|b"),
    ]
    assert str(found[1]) == r'note="say \"hi\""'


@pytest.mark.parametrize("bad", ['instance=~"(unclosed"', "=value", "9name=x"])
def test_unusable_matchers_are_refused(bad: str) -> None:
    with pytest.raises(BadMatcher):
        parse_matchers(bad)


def test_silence_arguments_are_matchers_then_duration_then_comment() -> None:
    request = parse_silence_args('alertname=CpuHigh instance=~"web-.*" 2h deploy of web')
    assert request.matchers == (
        Matcher("alertname", "=", "CpuHigh"),
        Matcher("instance", "=~", "web-.*"),
    )
    assert request.duration == timedelta(hours=2)
    assert request.comment == "deploy of web"


def test_silence_arguments_accept_braces() -> None:
    request = parse_silence_args('{severity!="critical"} 30m')
    assert request.matchers == (Matcher("severity", "!=", "critical"),)
    assert request.duration == timedelta(minutes=30)
    assert request.comment == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", BadSilence.NO_MATCHERS),
        ("2h because", BadSilence.NO_MATCHERS),
        ("alertname=CpuHigh", BadSilence.NO_DURATION),
        ("alertname=CpuHigh soon", BadSilence.NO_DURATION),
        ('instance=~"(" 1h', BadSilence.BAD_PATTERN),  # parses, but RE2 cannot compile it
        ("=x 1h", BadSilence.BAD_MATCHER),
    ],
)
def test_bad_silence_arguments_say_why(text: str, reason: str) -> None:
    with pytest.raises(BadSilence) as caught:
        parse_silence_args(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations_parse_and_format_back(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize("bad", ["", "0m", "5", "m5", "5x", "1h 30m", "400d"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(BadDuration):
        parse_duration(bad)
