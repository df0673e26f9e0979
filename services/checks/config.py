"""Where the probes look (plain values from the settings) and how they judge (RULES_FILE `checks`).

Defaults are the maintenance plan's numbers (seed CRITICAL_METRICS and alert configuration);
where the seed names none, the default is a conventional one and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class Targets:
    """What to watch. Built from Settings by the caller; services never import Settings."""

    monitor_database_url: str | None = None
    monitor_redis_url: str | None = None
    pakasir_base_url: str | None = None
    pakasir_project: str | None = None
    pakasir_api_key: str | None = None
    pakasir_probe_order_id: str | None = None
    backup_dir: Path | None = None
    log_files: str | None = None
    pg_restore_bin: str = "pg_restore"
    docs_dir: Path | None = None  # DOCS_DIR: the monthly documentation review
    fraud_retrain_command: str | None = None  # FRAUD_RETRAIN_COMMAND: monthly fraud update

    def log_globs(self) -> list[str]:
        if not self.log_files:
            return []
        return [part.strip() for part in self.log_files.split(",") if part.strip()]


def targets_from_settings(settings: Any, *, pg_restore_bin: str = "pg_restore") -> Targets:
    """Targets from anything with the settings' names (the bot's Settings, a namespace)."""
    return Targets(
        monitor_database_url=getattr(settings, "MONITOR_DATABASE_URL", None),
        monitor_redis_url=getattr(settings, "MONITOR_REDIS_URL", None),
        pakasir_base_url=getattr(settings, "PAKASIR_BASE_URL", None),
        pakasir_project=getattr(settings, "PAKASIR_PROJECT", None),
        pakasir_api_key=getattr(settings, "PAKASIR_API_KEY", None),
        pakasir_probe_order_id=getattr(settings, "PAKASIR_PROBE_ORDER_ID", None),
        backup_dir=getattr(settings, "BACKUP_DIR", None),
        log_files=getattr(settings, "LOG_FILES", None),
        pg_restore_bin=pg_restore_bin,
        docs_dir=getattr(settings, "DOCS_DIR", None),
        fraud_retrain_command=getattr(settings, "FRAUD_RETRAIN_COMMAND", None),
    )


class Band(BaseModel):
    """A value is a warning above `warn` and critical above `crit`."""

    warn: float
    crit: float


class SystemRules(BaseModel):
    timeout_s: float = 3.0
    cpu_percent: Band = Band(warn=80, crit=95)  # seed: alert on CPU > 80 % for 5 min
    memory_percent: Band = Band(warn=85, crit=95)
    swap_percent: Band = Band(warn=50, crit=80)
    disk_percent: Band = Band(warn=80, crit=90)
    load_per_cpu: Band = Band(warn=2.0, crit=4.0)
    mounts: list[str] = Field(default_factory=lambda: ["/"])


class DatabaseRules(BaseModel):
    timeout_s: float = 4.0
    connections_percent: Band = Band(warn=80, crit=90)
    long_query_s: float = 5.0  # seed: response time p95 alert > 5 s
    long_query_crit_s: float = 300.0
    lock_wait_crit_s: float = 60.0
    idle_in_transaction_s: float = 60.0
    vacuum_min_dead_tuples: int = 1000
    vacuum_dead_ratio: float = 0.2  # autovacuum's default scale factor
    replication_lag_s: Band = Band(warn=30, crit=300)
    listed: int = 10


class RedisRules(BaseModel):
    timeout_s: float = 3.0
    memory_percent: Band = Band(warn=80, crit=90)
    fragmentation_warn: float = 1.5
    hit_ratio_warn_percent: float = 80.0
    hit_ratio_min_lookups: int = 1000
    session_pattern: str = "session:*"
    session_scan_limit: int = 100_000
    sessions_without_ttl_warn: int = 1


DEFAULT_PAYMENT_SQL = """
SELECT count(*) FILTER (WHERE status <> 'pending') AS finished,
       count(*) FILTER (WHERE status = 'completed') AS succeeded,
       avg(extract(epoch FROM completed_at - created_at))
           FILTER (WHERE status = 'completed' AND completed_at IS NOT NULL) AS avg_seconds
FROM payments
WHERE created_at >= $1
"""


# The reports' payment success per day: rows of day, finished, succeeded; $1 start, $2 end,
# $3 the time zone whose days count.
DEFAULT_PAYMENT_DAILY_SQL = """
SELECT (created_at AT TIME ZONE $3)::date AS day,
       count(*) FILTER (WHERE status <> 'pending') AS finished,
       count(*) FILTER (WHERE status = 'completed') AS succeeded
FROM payments
WHERE created_at >= $1 AND created_at < $2
GROUP BY 1
ORDER BY 1
"""


# QuickCart's active customers: customers who ordered in the last 24 hours ($1 = now). The
# denominator of the user complaint rate (checks.bot).
DEFAULT_ACTIVE_CUSTOMERS_SQL = """
SELECT count(DISTINCT customer_id) FROM orders
WHERE created_at >= $1::timestamptz - interval '1 day'
"""


class PaymentRules(BaseModel):
    timeout_s: float = 4.0
    probe_amount: int = 10_000
    latency_s: Band = Band(warn=2.0, crit=5.0)  # seed: response time p95 2 s, alert > 5 s
    success_warn_percent: float = 95.0  # seed: payment_success_rate threshold 95
    success_crit_percent: float = 90.0  # seed: alert < 90 %
    avg_time_s: Band = Band(warn=30.0, crit=60.0)  # seed: average_payment_time 30 s, alert > 60 s
    window_minutes: int = 60
    min_payments: int = 1
    # One row: finished, succeeded, avg_seconds; $1 = start of the window.
    stats_sql: str = DEFAULT_PAYMENT_SQL
    daily_sql: str = DEFAULT_PAYMENT_DAILY_SQL
    active_customers_sql: str = DEFAULT_ACTIVE_CUSTOMERS_SQL  # one number; $1 = now


class BackupRules(BaseModel):
    timeout_s: float = 4.0
    max_age_hours: float = 26.0
    shrink_warn_percent: float = 20.0
    restore_test_max_age_days: float = 8.0  # the seed tests a restore every Saturday
    verify_at: str = "07:30"  # seed daily table: backup verification at 07:30
    pg_restore_timeout_s: float = 30.0


class LogRules(BaseModel):
    timeout_s: float = 4.0
    window_minutes: int = 15
    error_rate_percent: Band = Band(warn=1.0, crit=5.0)  # seed: error_rate 1 %, alert > 5 %
    fraud_events: list[str] = Field(default_factory=lambda: ["fraud_detected"])
    fraud_window_minutes: int = 5  # seed: 5 fraud_detected in 5 minutes
    fraud_crit: int = 5
    security_events: list[str] = Field(
        default_factory=lambda: [
            "login_failed",
            "auth_failed",
            "unauthorized",
            "permission_denied",
            "security_alert",
            "admin_login",
        ]
    )
    security_warn: int = 20
    error_levels: list[str] = Field(default_factory=lambda: ["error", "critical", "fatal"])
    max_bytes_per_run: int = 32 * 1024 * 1024
    top_errors: int = 5


DEFAULT_QUEUE_SQL = "SELECT count(*) FROM fraud_reviews WHERE status = 'pending'"
DEFAULT_FALSE_POSITIVE_SQL = """
SELECT count(*) FILTER (WHERE outcome = 'false_positive') AS false_positives,
       count(*) FILTER (WHERE outcome IS NOT NULL) AS reviewed
FROM fraud_reviews
WHERE reviewed_at >= $1
"""


# The reports' false positives over their period: $1 start, $2 end.
DEFAULT_FALSE_POSITIVE_PERIOD_SQL = """
SELECT count(*) FILTER (WHERE outcome = 'false_positive') AS false_positives,
       count(*) FILTER (WHERE outcome IS NOT NULL) AS reviewed
FROM fraud_reviews
WHERE reviewed_at >= $1 AND reviewed_at < $2
"""


# The fraud detection rate: confirmed fraud the rules caught, against that plus the fraud they
# missed (chargebacks for fraud on orders no rule flagged), over `window_days`; $1 = since.
DEFAULT_DETECTION_RATE_SQL = """
WITH caught AS (
    SELECT count(*) AS n FROM fraud_reviews
    WHERE outcome = 'confirmed_fraud' AND created_at >= $1
), missed AS (
    SELECT count(*) AS n FROM chargebacks c
    WHERE c.reason = 'fraud' AND c.created_at >= $1
      AND NOT EXISTS (SELECT 1 FROM fraud_reviews f WHERE f.order_id = c.order_id)
)
SELECT caught.n AS caught, missed.n AS missed FROM caught, missed
"""


class FraudRules(BaseModel):
    timeout_s: float = 4.0
    queue: Band = Band(warn=50, crit=100)  # seed: manual_review_queue 50, alert > 100
    false_positive_percent: Band = Band(warn=5.0, crit=10.0)  # seed: 5 %, alert > 10 %
    window_days: int = 30
    queue_sql: str = DEFAULT_QUEUE_SQL  # one number
    false_positive_sql: str = DEFAULT_FALSE_POSITIVE_SQL  # false_positives, reviewed; $1 = since
    false_positive_period_sql: str = DEFAULT_FALSE_POSITIVE_PERIOD_SQL
    detection_rate_sql: str = DEFAULT_DETECTION_RATE_SQL  # caught, missed; $1 = since
    detection_rate_percent: Band = Band(warn=95.0, crit=90.0)  # seed: 95 %, alert < 90 %


class BotRules(BaseModel):
    timeout_s: float = 3.0
    outbox_backlog: Band = Band(warn=100, crit=1000)
    outbox_oldest_s: Band = Band(warn=300, crit=1800)
    # The user complaint rate: the desk's customer tickets opened in the last 24 h per active
    # customer of QuickCart (the payment check's `active_customers`; seed: 0.1 %, alert > 0.5 %).
    complaint_rate_percent: Band = Band(warn=0.1, crit=0.5)


class ChecksRules(BaseModel):
    """RULES_FILE section `checks`."""

    budget_s: float = 4.0  # /health must answer within 5 s (storing the run comes after)
    system: SystemRules = SystemRules()
    database: DatabaseRules = DatabaseRules()
    redis: RedisRules = RedisRules()
    payment: PaymentRules = PaymentRules()
    backups: BackupRules = BackupRules()
    logs: LogRules = LogRules()
    fraud: FraudRules = FraudRules()
    bot: BotRules = BotRules()

    def timeout_for(self, name: str) -> float:
        section = getattr(self, name, None)
        timeout = getattr(section, "timeout_s", self.budget_s)
        return float(min(timeout, self.budget_s))


CHECK_NAMES = ("system", "database", "redis", "payment", "backups", "logs", "fraud", "bot")
ALIASES = {
    "db": "database",
    "postgres": "database",
    "pg": "database",
    "cache": "redis",
    "pakasir": "payment",
    "payments": "payment",
    "backup": "backups",
    "log": "logs",
    "self": "bot",
}


def resolve_name(name: str) -> str | None:
    """`db` -> `database`; None when the name is no check."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in CHECK_NAMES else None


@dataclass(frozen=True)
class ChecksContext:
    """The checks feature as the assembly builds it once: what the probes look at, how they
    judge, and the time zone their times are told in (/health, /backupstatus, the monitor)."""

    targets: Targets
    rules: ChecksRules
    tz: ZoneInfo
