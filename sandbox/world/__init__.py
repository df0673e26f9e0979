"""The demo QuickCart the sandbox runs: database, backups, logs, disk, Pakasir, clock, cast."""

from sandbox.world.clock import DemoClock
from sandbox.world.world import ActionError, DemoWorld, WorldConfig

__all__ = ["ActionError", "DemoClock", "DemoWorld", "WorldConfig"]
