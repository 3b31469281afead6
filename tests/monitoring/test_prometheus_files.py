"""The files under monitoring/: promtool checks and unit-tests the alert rules and the scrape
config, and every series the rules and the dashboard use is one that /metrics exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jobs import metrics
from jobs.models import Worker
from jobs.samples import fails_n_times, returns_42, slow_with_progress

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
SERIES = re.compile(r"\b(jobs_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?=[\s{\[)]|$)")


def promtool(*args, cwd=MONITORING):
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: `make promtool` installs Debian's prometheus package")
    return subprocess.run([path, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_alert_rules():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


def test_the_alert_rules_pass_their_promtool_unit_tests():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_sample_scrape_config_is_valid(tmp_path):
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(MONITORING / name, tmp_path / name)
    (tmp_path / "metrics.token").write_text("a-token")
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def used_series():
    """Every jobs_* series named in the alert rules and in the dashboard's queries."""
    texts = [(MONITORING / "alerts.yml").read_text()]
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    texts += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    texts += [var["definition"] for var in dashboard["templating"]["list"] if "definition" in var]
    return {match for text in texts for match in SERIES.findall(text)}


@pytest.mark.django_db(transaction=True)
def test_every_series_the_rules_and_the_dashboard_use_is_exported(work):
    from jobs.scheduler import Leadership

    Worker.register("w1", "host", 1, ["default.normal"])
    returns_42.enqueue()
    fails_n_times.enqueue("dashboard", 1)
    slow_with_progress.enqueue(total=2, delay=0)
    work()
    leadership = Leadership()
    assert leadership.acquire()
    try:
        text = metrics.exposition().decode()
    finally:
        leadership.release()
    # A family without samples yet (no dead run in this process) still has its TYPE line.
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line.startswith("jobs_")}
    exported |= {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE jobs_")}
    exported |= {re.sub(r"_(bucket|count|sum)$", "", name) for name in exported}
    used = used_series()
    assert {"jobs_workers_alive", "jobs_task_dead_total", "jobs_task_duration_seconds"} <= used
    assert used - exported == set()
