"""RULES_FILE section `maintenance`: each task's policy, defaults from the seed."""

from __future__ import annotations

from pydantic import BaseModel

from services.backups.verification import BackupPolicy
from services.maintenance.cache import CachePolicy
from services.maintenance.database import DatabaseMaintenancePolicy
from services.maintenance.dependencies import DependencyPolicy
from services.maintenance.fraud import FraudPolicy
from services.maintenance.performance import PerformancePolicy
from services.maintenance.retention import RetentionPolicy
from services.maintenance.security import SecurityPolicy


class MaintenanceRules(BaseModel):
    cache: CachePolicy = CachePolicy()
    database: DatabaseMaintenancePolicy = DatabaseMaintenancePolicy()
    backups: BackupPolicy = BackupPolicy()
    dependencies: DependencyPolicy = DependencyPolicy()
    security: SecurityPolicy = SecurityPolicy()
    performance: PerformancePolicy = PerformancePolicy()
    fraud: FraudPolicy = FraudPolicy()
    retention: RetentionPolicy = RetentionPolicy()
    uptime_target_percent: float = 99.5  # seed: 99.5 % uptime
