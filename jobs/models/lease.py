"""The scheduler's leadership: a lease with an expiry and a fencing token, in one Postgres row."""

from django.db import connection, models


class SchedulerLease(models.Model):
    """Who leads the schedulers until when; `token` grows by one every time the lease changes hands.

    A leader renews the lease every tick. A leader frozen (SIGSTOP, a long GC, a VM pause) past
    `expires_at` loses it to a standby, which takes it with the next token; every firing checks
    its token inside its transaction, so the frozen one fires nothing when it wakes.
    """

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=255, blank=True)
    token = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()
    renewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name}: {self.holder} #{self.token} until {self.expires_at}"

    @classmethod
    def acquire(cls, name, holder, token, seconds):
        """Renew `holder`'s lease (token given) or take an expired one; return the token or None.

        Expiry is judged by the database's clock, the one clock every scheduler shares (the
        wall clock, not now(), which stands still for the length of a transaction).
        """
        table = cls._meta.db_table
        with connection.cursor() as cursor:
            if token is not None:
                cursor.execute(
                    f"UPDATE {table} SET expires_at = clock_timestamp() + make_interval(secs => %s), "
                    "renewed_at = clock_timestamp() "
                    "WHERE name = %s AND holder = %s AND token = %s AND expires_at > clock_timestamp() RETURNING token",
                    [seconds, name, holder, token],
                )
                row = cursor.fetchone()
                if row is not None:
                    return row[0]
            # Free or expired: take it with the next token. ON CONFLICT's row lock makes two
            # standbys racing for it serialise; the second matches no row.
            cursor.execute(
                f"INSERT INTO {table} (name, holder, token, expires_at, renewed_at) "
                "VALUES (%s, %s, 1, clock_timestamp() + make_interval(secs => %s), clock_timestamp()) "
                f"ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = {table}.token + 1, "
                f"expires_at = EXCLUDED.expires_at, renewed_at = EXCLUDED.renewed_at "
                f"WHERE {table}.expires_at <= clock_timestamp() RETURNING token",
                [name, holder, seconds],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    @classmethod
    def current(cls, name):
        """(holder, seconds since it last renewed) of an unexpired lease, or None: for health checks."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT holder, extract(epoch FROM clock_timestamp() - renewed_at) FROM {cls._meta.db_table} "
                "WHERE name = %s AND expires_at > clock_timestamp()",
                [name],
            )
            row = cursor.fetchone()
        return None if row is None else (row[0], float(row[1] or 0.0))

    @classmethod
    def holds(cls, name, holder, token):
        """Whether `holder` still leads with `token`; keeps the lease row locked until commit.

        Called inside a firing's transaction: FOR SHARE makes a takeover wait until the firing
        commits, so a tick is fired only under a lease that was valid when it was written.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {cls._meta.db_table} WHERE name = %s AND holder = %s AND token = %s "
                "AND expires_at > clock_timestamp() FOR SHARE",
                [name, holder, token],
            )
            return cursor.fetchone() is not None

    @classmethod
    def give_up(cls, name, holder, token):
        """End `holder`'s lease now, so a standby takes over at its next tick."""
        cls.objects.filter(name=name, holder=holder, token=token).update(expires_at=models.Func(function="clock_timestamp"))
