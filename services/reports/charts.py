"""The report's charts as PNG bytes (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot() -> Any:
    """matplotlib is imported when a chart is drawn, not when the bot starts (it is slow to
    import and builds a font cache on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure: Figure) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def line_per_day(
    points: list[tuple[date, float | None]],
    *,
    title: str,
    ylabel: str,
    target: float | None = None,
    ylim: tuple[float, float] | None = None,
) -> bytes:
    figure, axes = _pyplot().subplots(figsize=(8, 3))
    xs: list[Any] = [d for d, v in points if v is not None]  # matplotlib plots dates
    ys = [v for _d, v in points if v is not None]
    axes.plot(
        xs,
        ys,
        marker="o",
        linewidth=1.5,
        color="#1f77b4",
    )
    if target is not None:
        axes.axhline(target, color="#d62728", linestyle="--", linewidth=1)
    if ylim is not None:
        axes.set_ylim(*ylim)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    figure.autofmt_xdate()
    return _png(figure)


def bars_per_week(points: list[tuple[date, int]], *, title: str, ylabel: str) -> bytes:
    figure, axes = _pyplot().subplots(figsize=(8, 3))
    labels = [d.strftime("%Y-%m-%d") for d, _n in points]
    axes.bar(labels, [n for _d, n in points], color="#ff7f0e")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(True, axis="y", alpha=0.3)
    return _png(figure)


def bars(points: list[tuple[str, int]], *, title: str, ylabel: str) -> bytes:
    """One bar per label (pages per person)."""
    figure, axes = _pyplot().subplots(figsize=(8, 3))
    axes.bar([label for label, _n in points], [n for _label, n in points], color="#2ca02c")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(True, axis="y", alpha=0.3)
    figure.autofmt_xdate()
    return _png(figure)


def grouped_bars(
    labels: list[str], series: dict[str, list[float]], *, title: str, ylabel: str
) -> bytes:
    """Side-by-side bars per label, one colour per series (MTTA and MTTR per severity)."""
    figure, axes = _pyplot().subplots(figsize=(8, 3))
    width = 0.8 / max(1, len(series))
    for index, (name, values) in enumerate(series.items()):
        xs = [x + index * width for x in range(len(labels))]
        axes.bar(xs, values, width=width, label=name)
    axes.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], labels)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return _png(figure)
