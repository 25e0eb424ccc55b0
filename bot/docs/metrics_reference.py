"""The metrics reference and the names ``/metrics`` exports, from the registry in ``bot/metrics.py``."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.metrics import MetricWrapperBase

from bot.metrics import Metrics

# The series each kind of metric exports, after its name (prometheus_client's exposition).
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "enum": ("",),
}


@dataclass(frozen=True)
class MetricDoc:
    name: str
    kind: str
    labels: tuple[str, ...]
    help: str

    @property
    def shown_name(self) -> str:
        """The name to query: a counter's ``_total`` series, every other metric's own name."""
        return self.name + "_total" if self.kind == "counter" else self.name

    @property
    def series(self) -> tuple[str, ...]:
        return tuple(self.name + suffix for suffix in _SUFFIXES.get(self.kind, ("",)))


def registered() -> list[MetricDoc]:
    """Every metric ``Metrics`` registers, in the order it declares them."""
    metrics = Metrics()
    return [
        MetricDoc(metric._name, metric._type or "untyped", tuple(metric._labelnames), metric._documentation)
        for metric in vars(metrics).values()
        if isinstance(metric, MetricWrapperBase)
    ]


def exported_names() -> set[str]:
    """Every series name ``/metrics`` can carry (``approvals_decisions_total``, ``notifier_leader``, ...)."""
    return {series for metric in registered() for series in metric.series}


def metrics_reference() -> str:
    rows = [
        f"| `{metric.shown_name}` | {metric.kind} | {', '.join(f'`{label}`' for label in metric.labels)} "
        f"| {' '.join(metric.help.split())} |"
        for metric in registered()
    ]
    return "\n".join(["| Metric | Type | Labels | Meaning |", "| --- | --- | --- | --- |", *rows]) + "\n"
