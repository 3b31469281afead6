"""A small copy of bench/chaos.py in CI: kills, a Redis restart and a Postgres restart lose nothing."""

import importlib.util
from pathlib import Path

import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHAOS = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"


def load_chaos():
    spec = importlib.util.spec_from_file_location("bench_chaos", CHAOS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_survive_worker_kills_and_redis_and_postgres_restarts(services, subprocess_env, tmp_path):
    from jobs.samples import EFFECTS_TABLE

    chaos = load_chaos()
    run = chaos.Chaos(services, subprocess_env, runs=500, workers=3, kill_every=3.0, spread=24.0,
                      quiet_timeout=90.0, log_dir=tmp_path, seed=7)
    try:
        report = run.run()
    finally:
        run.stop_all()
        connections.close_all()  # the Postgres restart broke every session this process had
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {EFFECTS_TABLE}")
    print(chaos.summary(report), report)
    assert report["kills"] >= 4 and report["aimed_kills"] >= 1  # at least one kill inside a run
    assert report["runs"] == 500 and report["terminal"] == 500
    assert (report["lost"], report["stuck"], report["wrongly_dead"], report["double_fires"]) == (0, 0, 0, 0)
    assert report["dead"] == 0  # every task is at-least-once: a lost worker means a retry, not a death
    assert report["lost_worker_detections"] >= 1 and report["detect_max"] <= 10 + 2.5
