"""`quickcart-ops alerts route`: the receivers an alert reaches (`amtool config routes test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, main

RULES = """
alerts:
  route:
    receiver: admin
    routes:
      - matchers: ['team="payments"']
        receiver: payments
        continue: true
      - matchers: ['severity="critical"']
        receiver: pager
  receivers:
    - {name: admin, chats: [admin]}
    - {name: payments, chats: [support], channels: [email]}
    - {name: pager, roles: [devops]}
"""


@pytest.fixture(autouse=True)
def rules_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    path = tmp_path / "rules.yml"
    path.write_text(RULES)
    monkeypatch.setenv("RULES_FILE", str(path))
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    return path


def test_it_prints_the_receivers_in_tree_order_then_who_they_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["alerts", "route", "--labels", "severity=critical,team=payments"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "payments,pager"
    assert out[1:3] == ["  payments: chats support · channels email", "  pager: on call for devops"]


def test_labels_may_be_given_like_amtool(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "route", "alertname=X", 'team="ops"']) == 0
    assert capsys.readouterr().out.splitlines()[0] == "admin"


def test_tree_prints_every_route(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "route", "--tree"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "{*}  receiver: admin  group_by: [alertname]",
        '  {team="payments"}  receiver: payments  group_by: [alertname]  continue',
        '  {severity="critical"}  receiver: pager  group_by: [alertname]',
    ]


@pytest.mark.parametrize("bad", ["severity", 'a=~"x"', "=x", "a=b c"])
def test_what_is_not_a_label_is_refused_politely(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "route", "--labels", bad]) == 2
    assert "not a label" in capsys.readouterr().err


def test_odd_values_are_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "route", "--labels", 'team="pay,ments",x=<b>&ü']) == 0
    assert capsys.readouterr().out.splitlines()[0] == "admin"


def test_a_broken_tree_is_a_config_error(
    rules_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_file.write_text("alerts:\n  route:\n    receiver: nobody\n")
    assert main(["alerts", "route", "--labels", "a=b"]) == EXIT_CONFIG
    assert "receiver 'nobody' is not defined" in capsys.readouterr().err


def test_verify_receivers_fails_when_the_tree_disagrees(capsys: pytest.CaptureFixture[str]) -> None:
    labels = ["--labels", "severity=critical,team=payments"]
    assert main(["alerts", "route", *labels, "--verify-receivers", "payments,pager"]) == 0
    assert main(["alerts", "route", *labels, "--verify-receivers", "pager,payments"]) == 1
    assert "not the expected pager,payments" in capsys.readouterr().err
