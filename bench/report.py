"""Figures, each with its baseline from the same run, printed as min / median over rounds."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.95 for p95)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Figure:
    """One figure: a value per round for the bot and for its baseline (lower is better unless
    ``higher_is_better``); ``ratio`` is bot / baseline (or baseline / bot when higher is better, so
    above 1 always means the bot is behind)."""

    name: str
    unit: str
    baseline_name: str
    bot: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    higher_is_better: bool = False
    target: str = ""
    difference: bool = False
    """Show bot - baseline instead of a ratio (RSS growth against the smallest size)."""

    def add(self, bot: float, baseline: float) -> None:
        self.bot.append(bot)
        self.baseline.append(baseline)

    def _pick(self, values: list[float], best: bool) -> float:
        if best:
            return max(values) if self.higher_is_better else min(values)
        return statistics.median(values)

    def ratio(self, best: bool) -> float:
        bot, baseline = self._pick(self.bot, best), self._pick(self.baseline, best)
        if self.difference:
            return bot - baseline
        if self.higher_is_better:
            bot, baseline = baseline, bot
        return bot / baseline if baseline else float("inf")


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _pair(first: float, second: float) -> str:
    return f"{_number(first)} / {_number(second)}"


def render(figures: list[Figure], *, markdown: bool = False) -> str:
    """The table: figure, bot, baseline, ratio (each best / median over rounds), target."""
    header = ("Figure", "Bot", "Baseline", "Ratio", "Against", "Target")
    rows = [header]
    for figure in figures:
        rows.append(
            (
                f"{figure.name} [{figure.unit}]",
                _pair(figure._pick(figure.bot, True), figure._pick(figure.bot, False)),
                _pair(figure._pick(figure.baseline, True), figure._pick(figure.baseline, False)),
                (f"{figure.ratio(True):+.1f} / {figure.ratio(False):+.1f} {figure.unit}")
                if figure.difference
                else f"{figure.ratio(True):.2f}x / {figure.ratio(False):.2f}x",
                figure.baseline_name,
                figure.target,
            )
        )
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
