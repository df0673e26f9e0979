"""CPU, load, memory, swap and disk of the host the bot runs on (psutil)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import psutil

from services.checks.model import Outcome, Status, Unit
from services.checks.probe import ProbeContext
from services.checks.probes._common import Findings, judge
from services.checks.units import fmt_percent
from services.i18n import N_

_primed = {"cpu": False}


def _cpu_percent() -> float:
    """Since the previous call; the very first call measures over 0.2 s instead."""
    if not _primed["cpu"]:
        _primed["cpu"] = True
        return float(psutil.cpu_percent(interval=0.2))
    return float(psutil.cpu_percent(interval=None))


@dataclass(frozen=True)
class Measurement:
    cpu: float
    load: tuple[float, float, float]
    cpus: int
    memory: float
    swap: float
    disks: dict[str, float | None]


def _measure(mounts: list[str]) -> Measurement:
    disks: dict[str, float | None] = {}
    for mount in mounts:
        try:
            disks[mount] = float(psutil.disk_usage(mount).percent)
        except OSError:
            disks[mount] = None
    return Measurement(
        cpu=_cpu_percent(),
        load=os.getloadavg(),
        cpus=psutil.cpu_count() or 1,
        memory=float(psutil.virtual_memory().percent),
        swap=float(psutil.swap_memory().percent),
        disks=disks,
    )


async def probe(ctx: ProbeContext) -> Outcome:
    rules = ctx.rules.system
    m = await asyncio.to_thread(_measure, rules.mounts)
    found = Findings()
    cpu = found.value("cpu_percent", m.cpu, Unit.PERCENT)
    load1, load5, load15 = m.load
    cpus = m.cpus
    found.value("load1", load1, Unit.COUNT)
    found.value("load5", load5, Unit.COUNT)
    found.value("load15", load15, Unit.COUNT)
    memory = found.value("memory_percent", m.memory, Unit.PERCENT)
    swap = found.value("swap_percent", m.swap, Unit.PERCENT)
    found.add(judge(cpu, rules.cpu_percent), N_("CPU is at {value}."), value=fmt_percent(cpu))
    per_cpu = found.value("load_per_cpu", load5 / cpus, Unit.RATIO)
    found.add(
        judge(per_cpu, rules.load_per_cpu),
        N_("Load average is {load} on {cpus} CPUs."),
        load=f"{load5:.2f}",
        cpus=cpus,
    )
    found.add(
        judge(memory, rules.memory_percent),
        N_("Memory is {value} used."),
        value=fmt_percent(memory),
    )
    found.add(judge(swap, rules.swap_percent), N_("Swap is {value} used."), value=fmt_percent(swap))
    fullest = 0.0
    for mount, percent in m.disks.items():
        if percent is None:
            found.add(Status.UNKNOWN, N_("Disk {mount} cannot be read."), mount=mount)
            continue
        fullest = max(fullest, percent)
        found.value("disk_percent", percent, Unit.PERCENT, target=mount)
        found.add(
            judge(percent, rules.disk_percent),
            N_("Disk {mount} is {value} full."),
            mount=mount,
            value=fmt_percent(percent),
        )
    return found.outcome(
        N_("CPU {cpu}, memory {memory}, fullest disk {disk}."),
        cpu=fmt_percent(cpu),
        memory=fmt_percent(memory),
        disk=fmt_percent(fullest),
    )
