"""Prometheus metrics: one registration layer for the platform and the domain, multiprocess-safe.

Series come from two places:
- counters and histograms that worker (and web, scheduler) processes update as runs change
  status (`jobs.metrics.receivers`). With PROMETHEUS_MULTIPROC_DIR set (as `manage.py serve`
  does) every process writes its values to files in that directory and a scrape of any process
  on the machine (the web's /metrics, or `manage.py jobs metrics_server`) adds them up;
- gauges read from the ledger and Redis at scrape time (`jobs.metrics.ledger`).

Other packages register their own series with `counter()`, `histogram()` and `gauge()` (their
values then follow the same multiprocess rules) or a scrape-time collector with
`register_collector()`. Labels must be bounded: task and queue names (`task_label()`,
`queue_label()`), never run ids or arguments.
"""

import os
import threading

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

from .labels import queue_label, task_label

__all__ = [
    "counter", "gauge", "histogram", "exposition", "multiprocess_dir", "queue_label", "register_collector",
    "task_label",
]

# Seconds: from a no-op job (milliseconds) to a long import (an hour).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

_lock = threading.Lock()
_metrics = {}  # name -> the metric object, so a second registration returns the first
_collectors = []  # scrape-time collectors registered by other packages


def multiprocess_dir():
    """The directory shared by this machine's processes, or "" in single-process mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or ""


def _register(kind, name, documentation, labels, **options):
    labels = tuple(labels)
    with _lock:
        existing = _metrics.get(name)
        if existing is not None:
            if not isinstance(existing, kind) or tuple(existing._labelnames) != labels:
                raise ValueError(f"metric {name} is already registered as a different {type(existing).__name__}")
            return existing
        metric = kind(name, documentation, labels, registry=REGISTRY, **options)
        _metrics[name] = metric
        return metric


def counter(name, documentation, labels=()):
    """A counter (register once; a second call with the same name returns it)."""
    return _register(Counter, name, documentation, labels)


def histogram(name, documentation, labels=(), buckets=DURATION_BUCKETS):
    """A histogram, in seconds unless the name says otherwise."""
    return _register(Histogram, name, documentation, labels, buckets=buckets)


def gauge(name, documentation, labels=(), multiprocess_mode="livesum"):
    """A gauge; across processes its values are combined by `multiprocess_mode` (livesum, max, ...)."""
    return _register(Gauge, name, documentation, labels, multiprocess_mode=multiprocess_mode)


def register_collector(collector):
    """Add an object with a `collect()` method (yielding metric families) to every web scrape."""
    with _lock:
        if collector not in _collectors:
            _collectors.append(collector)
    return collector


class _ThisProcess:
    """The default registry (this process's own series) for single-process mode."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition(ledger=True):
    """The text format of every series: the processes' counters, and the ledger's gauges if asked."""
    from .ledger import LedgerCollector

    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if ledger:
        registry.register(LedgerCollector())
        for collector in list(_collectors):
            registry.register(collector)
    return generate_latest(registry)
