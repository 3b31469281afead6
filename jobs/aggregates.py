"""SQL expressions for the admin's statistics: seconds of an interval, PostgreSQL percentiles."""

from django.db.models import Aggregate, FloatField, Func


class Epoch(Func):
    """Seconds in an interval, as a float."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
    output_field = FloatField()


class Percentile(Aggregate):
    """PostgreSQL's interpolated percentile: percentile_cont(f) WITHIN GROUP (ORDER BY expr); NULLs skipped."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def __init__(self, expression, fraction, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)
