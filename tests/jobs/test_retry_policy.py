import random

import pytest
from django.tasks.exceptions import InvalidTask

from jobs import RetryPolicy


def test_the_seed_policies_are_expressible():
    three_at = RetryPolicy(max_attempts=3, delays=(60, 300, 1800))
    assert [three_at.delay(n) for n in (1, 2, 3)] == [60, 300, 1800]
    linear = RetryPolicy.linear(3, 60, cap=60)
    assert [linear.delay(n) for n in (1, 2)] == [60, 60]
    best_effort = RetryPolicy.none()
    assert best_effort.should_retry(1, RuntimeError) is False


def test_it_backs_off_exponentially_up_to_the_cap():
    policy = RetryPolicy.exponential(10, base=10, factor=3, cap=200)
    assert [policy.delay(n) for n in range(1, 6)] == [10, 30, 90, 200, 200]


def test_linear_and_fixed_backoff():
    assert [RetryPolicy.linear(5, 60).delay(n) for n in (1, 2, 3)] == [60, 120, 180]
    assert [RetryPolicy.fixed(5, 7).delay(n) for n in (1, 2, 3)] == [7, 7, 7]


def test_jitter_stays_within_its_fraction():
    policy = RetryPolicy.fixed(3, 100, jitter=0.2)
    rng = random.Random(1)
    delays = [policy.delay(1, rng) for _ in range(200)]
    assert min(delays) >= 80 and max(delays) <= 120
    assert len(set(delays)) > 100


def test_it_retries_only_listed_exception_types_and_only_while_attempts_remain():
    policy = RetryPolicy.fixed(3, 1, retry_on=("builtins.ConnectionError",))
    assert policy.should_retry(1, ConnectionRefusedError)
    assert not policy.should_retry(1, ValueError)
    assert not policy.should_retry(3, ConnectionRefusedError)


def test_it_survives_a_json_round_trip():
    policy = RetryPolicy(max_attempts=4, delays=(1, 2), jitter=0.1, retry_on=("builtins.OSError",))
    assert RetryPolicy.from_json(policy.to_json()) == policy


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"backoff": "sideways"}, {"jitter": 2}, {"base": -1},
     {"retry_on": ("builtins.len",)}, {"delays": (-5,)}],
)
def test_it_rejects_insane_policies(kwargs):
    with pytest.raises(InvalidTask):
        RetryPolicy(**kwargs)
