""" "Fill the disk", honestly: a real small filesystem that really fills up.

The bot's system probe measures mounted filesystems with psutil (`checks.system.mounts`).
Filling the machine's real disk would be reckless, and faking psutil would test nothing, so
the sandbox mounts a 32 MiB tmpfs at `DATA_DIR/quickcart/disk`, adds it to the probe's
mounts, and "fill" writes ballast files into it (up to 95 %). Mounting needs root (or
CAP_SYS_ADMIN); without it the panel shows the action as unavailable, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SIZE_MIB = 32
BALLAST = "ballast"


@dataclass
class DemoDisk:
    mountpoint: Path
    available: bool = False
    reason: str = ""
    mounted_here: bool = False

    def prepare(self) -> None:
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        if os.path.ismount(self.mountpoint):
            self.available = True  # left from an earlier run that did not unmount
            return
        if os.geteuid() != 0:
            self.reason = "needs root to mount a small tmpfs; run the sandbox as root to try it"
            return
        mount = shutil.which("mount")
        if mount is None:
            self.reason = "no mount program on this machine"
            return
        result = subprocess.run(  # noqa: S603 - fixed arguments, our own mount point
            [
                mount,
                "-t",
                "tmpfs",
                "-o",
                f"size={SIZE_MIB}m,mode=0755",
                "tmpfs",
                str(self.mountpoint),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            self.reason = "mount failed: " + (result.stderr.strip() or str(result.returncode))
            return
        self.available = self.mounted_here = True

    def percent(self) -> float | None:
        if not self.available:
            return None
        usage = shutil.disk_usage(self.mountpoint)
        return round(100.0 * usage.used / usage.total, 1) if usage.total else None

    def fill(self, target_percent: float = 95.0) -> None:
        if not self.available:
            raise RuntimeError(self.reason)
        usage = shutil.disk_usage(self.mountpoint)
        wanted = int(usage.total * target_percent / 100) - usage.used
        if wanted <= 0:
            return
        folder = self.mountpoint / BALLAST
        folder.mkdir(exist_ok=True)
        index = len(list(folder.iterdir()))
        with (folder / f"ballast-{index}.bin").open("wb") as handle:
            chunk = b"\0" * (1024 * 1024)
            while wanted > 0:
                handle.write(chunk[: min(wanted, len(chunk))])
                wanted -= len(chunk)

    def clear(self) -> None:
        shutil.rmtree(self.mountpoint / BALLAST, ignore_errors=True)

    def release(self) -> None:
        if self.mounted_here:
            umount = shutil.which("umount") or "/bin/umount"
            subprocess.run(  # noqa: S603 - fixed arguments, our own mount point
                [umount, "-l", str(self.mountpoint)], capture_output=True, check=False
            )
            self.mounted_here = False

    def view(self) -> dict[str, object]:
        return {
            "available": self.available,
            "reason": self.reason,
            "percent": self.percent(),
            "mount": str(self.mountpoint),
        }
