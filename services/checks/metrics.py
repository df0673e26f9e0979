"""Prometheus gauges for every probe: its status, duration and each measured value.

`CheckMetrics(registry).export(report)` after each run; series a probe stops reporting
(a mount removed, a check now failing before it measures) are removed, not left stale.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from services.checks.model import CheckReport


class CheckMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        def gauge(name: str, documentation: str, *labels: str) -> Gauge:
            """A gauge of this registry, one series per check (and `labels`)."""
            return Gauge(name, documentation, ["check", *labels], registry=registry)

        self.status = gauge(
            "qc_check_status", "Outcome of each health probe: 0 ok, 1 warn, 2 crit, 3 unknown"
        )
        self.duration = gauge("qc_check_duration_seconds", "How long each health probe took")
        self.last_run = gauge(
            "qc_check_last_run_timestamp_seconds", "When each health probe last ran (Unix time)"
        )
        self.value = gauge(
            "qc_check_value",
            "The latest value each health probe measured",
            "key",
            "target",
            "unit",
        )
        self._series: dict[str, set[tuple[str, str, str, str]]] = {}

    def export(self, report: CheckReport) -> None:
        for result in report.results:
            self.status.labels(check=result.name).set(result.status.exit_code)
            self.duration.labels(check=result.name).set(result.duration_s)
            self.last_run.labels(check=result.name).set(result.started_at.timestamp())
            current = {(result.name, v.key, v.target, v.unit.value) for v in result.values}
            for stale in self._series.get(result.name, set()) - current:
                self.value.remove(*stale)
            for v in result.values:
                self.value.labels(
                    check=result.name, key=v.key, target=v.target, unit=v.unit.value
                ).set(v.amount)
            self._series[result.name] = current


_default: list[CheckMetrics] = []


def export(report: CheckReport) -> None:
    """Export to the process-wide registry that /metrics serves."""
    if not _default:
        _default.append(CheckMetrics())
    _default[0].export(report)
