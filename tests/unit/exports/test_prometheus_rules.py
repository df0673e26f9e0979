"""`quickcart-ops rules export --prometheus` writes a file Debian's `promtool check rules`
accepts: the seed's rules whose metric is on /metrics, a rule named to a PromQL query in
RULES_FILE, and comments for the rules Prometheus has no series for."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

RULES_FILE = """
alerts:
  extra_rules:
    - name: DiskFullOnData
      metric: {kind: probe, check: system, key: disk_percent, target: "/data", aggregate: max,
               window: 10m}
      op: ">"
      threshold: 95
      for: 2m
      keep_firing_for: 5m
      severity: critical
      labels: {team: "ops \\"core\\""}
      summary: 'Disk {{ almost }} full: "quoted" <b>'
      runbook_url: https://wiki.quickcart.id/runbooks/disk
prometheus:
  queries:
    FraudDetectedBurst: sum(increase(quickcart_fraud_detected_total[5m]))
"""


def promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    if not Path(PROMTOOL).exists():
        pytest.skip(f"promtool is not installed ({PROMTOOL}; Debian package `prometheus`)")
    return subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )


def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str | None) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    if rules is not None:
        (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
        monkeypatch.setenv("RULES_FILE", str(tmp_path / "rules.yaml"))
    else:
        monkeypatch.delenv("RULES_FILE", raising=False)
    out = tmp_path / "quickcart.rules.yml"
    assert main(["rules", "export", "--prometheus", "--output", str(out)]) == 0
    return out


def accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str | None
) -> tuple[dict[str, Any], str]:
    """The export, which promtool must accept with every rule in it: the rules by alert name,
    and the file's text."""
    out = export(tmp_path, monkeypatch, rules)
    checked = promtool_check(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = out.read_text()
    listed = yaml.safe_load(text)["groups"][0]["rules"]
    assert f"SUCCESS: {len(listed)} rules found" in checked.stdout
    return {r["alert"]: r for r in listed}, text


def test_promtool_accepts_the_export_of_the_default_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_name, text = accepted(tmp_path, monkeypatch, None)
    assert by_name["CpuHigh"]["expr"] == 'qc_check_value{check="system",key="cpu_percent"} > 80'
    assert by_name["CpuHigh"]["for"] == "5m"
    assert by_name["PaymentSuccessRateLow"]["labels"] == {"severity": "critical"}
    # what Prometheus has no series for is left out, said in a comment
    for name in ("FraudDetectedBurst", "TelegramDeliveryLow", "TargetDown"):
        assert name not in by_name
        assert f"#   {name}: " in text


def test_rules_file_rules_and_named_queries_are_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_name, _ = accepted(tmp_path, monkeypatch, RULES_FILE)
    disk = by_name["DiskFullOnData"]
    assert disk["expr"] == (
        'max_over_time(qc_check_value{check="system",key="disk_percent",target="/data"}[10m]) > 95'
    )
    assert (disk["for"], disk["keep_firing_for"]) == ("2m", "5m")
    assert disk["labels"] == {"team": 'ops "core"', "severity": "critical"}
    assert disk["annotations"]["runbook_url"] == "https://wiki.quickcart.id/runbooks/disk"
    fraud = by_name["FraudDetectedBurst"]
    assert fraud["expr"] == "(sum(increase(quickcart_fraud_detected_total[5m]))) >= 5"


def test_promtool_does_refuse_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: promtool reads the expressions, not only the YAML."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n- name: x\n  rules:\n  - alert: Bad\n    expr: qc_check_value{ > 80\n"
    )
    assert promtool_check(broken).returncode != 0
