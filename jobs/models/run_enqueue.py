"""A run's way in: INSERT (one or a COPY of many) and the outbox's move to queued, one statement each."""

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.base import ModelState

from ..status import RunStatus
from .row_values import column_values, differing_columns, dumped_json, row_values, with_columns
from .run_execution import hot_cursor

_INSERT_SQL = {}  # table -> the INSERT statement of JobRun.insert()


class RunEnqueue:
    """JobRun's enqueue hot path: raw statements, each one round trip whatever the batch size."""

    def insert(self, like=None):
        """INSERT this new run: the enqueue hot path (save() would compile the same SQL per row).

        `like` is a prototype's (run, row values, statement cache) when this run is its sibling:
        the columns it shares with the prototype are literals of a statement written once, and
        only the few that differ (id, arguments, status, timestamps) are parameters. Quoting 41
        parameters per INSERT was a fifth of a single enqueue's CPU.
        """
        fields = self._meta.local_concrete_fields
        if like is None:
            params = row_values(self, fields)
            sql = self._insert_sql(fields, params, ())
        else:
            prototype, values, statements = like
            differing = differing_columns(self, prototype, fields)
            sql = statements.get(differing)
            if sql is None:
                sql = statements[differing] = self._insert_sql(fields, values, differing)
            params = column_values(self, fields, differing)
        # One round trip; a one-row COPY takes two (measured ~10% fewer enqueues/s). Prepared
        # (once per statement and connection): Postgres no longer parses and plans a 41-column
        # INSERT per enqueue, and psycopg no longer quotes the parameters into its text.
        with hot_cursor() as cursor:
            cursor.execute(sql, params)
        self._state.adding = False
        self._state.db = connection.alias

    @classmethod
    def _insert_sql(cls, fields, values, parameters):
        """The INSERT of one row: %s for the columns at `parameters`, the others' `values` as literals."""
        if not parameters:  # every column a parameter
            key = cls._meta.db_table
            if key not in _INSERT_SQL:
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                _INSERT_SQL[key] = (
                    f"INSERT INTO {cls._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})")
            return _INSERT_SQL[key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        # A literal's own % would read as a placeholder: doubled.
        literals = ["%s" if index in parameters else connection.ops.compose_sql("%s", [value]).replace("%", "%%")
                    for index, value in enumerate(values)]
        return f"INSERT INTO {cls._meta.db_table} ({columns}) VALUES ({', '.join(literals)})"

    def sibling(self, **changes):
        """A new unsaved run like this one but for `changes`: the bulk enqueue's constructor.

        Model.__init__ resolves every field and its default per row, which was a fifth of a
        bulk enqueue's CPU; the runs of one enqueue share all but a few values, so a copy of
        the first run's attributes does. Mutable defaults must be among `changes` (id, args,
        kwargs and the timestamps are); the rest are shared immutable values.
        """
        run = object.__new__(type(self))
        run.__dict__.update(self.__dict__)
        run.__dict__.update(changes)
        run._state = ModelState()  # its own adding/db flags; the related objects cached alike
        if "fields_cache" in self._state.__dict__:
            run._state.fields_cache = dict(self._state.fields_cache)
        return run

    @classmethod
    def insert_many(cls, runs, like=None):
        """INSERT new runs with one COPY, with the conversions save() applies.

        `like` is a prototype's (run, row values) when the runs are its siblings: each row then
        converts only the values it does not share with the prototype.
        """
        fields = cls._meta.local_concrete_fields
        db = connections[DEFAULT_DB_ALIAS]
        columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
        if like is not None:  # the retry policy, shared by every row: dumped once, not per row
            like = like[0], dumped_json(like[1])
        # Django wraps execute() errors (IntegrityError for a unique key) but not copy()'s.
        with db.cursor() as cursor, db.wrap_database_errors:
            # COPY, not a multi-row INSERT: psycopg would re-parse a statement with thousands of
            # placeholders on every call, which cost more than the round trips it saves. (A
            # prepared INSERT ... SELECT FROM unnest() of the differing columns' arrays was
            # measured too: 19% more client CPU per run than this text COPY, same server CPU.)
            with cursor.copy(f"COPY {cls._meta.db_table} ({columns}) FROM STDIN") as copy:
                for run in runs:
                    copy.write_row(row_values(run, fields, like=like, db=db))
        for run in runs:
            run._state.adding = False
            run._state.db = db.alias

    @classmethod
    def prototype_of(cls, run):
        """(run, its row values, a statement cache): the `like` of its siblings' inserts."""
        return run, row_values(run, cls._meta.local_concrete_fields), {}

    @classmethod
    def prototype_with(cls, like, **changes):
        """The `like` of a sibling of `like`'s run with `changes`; only the changed columns are converted.

        The statements stay shared: they carry the columns that do not change as literals.
        """
        prototype, values, statements = like
        run = prototype.sibling(**changes)
        return run, with_columns(run, cls._meta.local_concrete_fields, values, changes), statements

    @classmethod
    def mark_dispatched_many(cls, runs, now):
        """Move undispatched runs to queued (scheduled if run_after is later) in one UPDATE.

        Return the runs that moved, in the order given; each now carries its new status and
        dispatch number. A single dispatch is a batch of one.
        """
        by_id = {str(run.pk): run for run in runs}
        with connection.cursor() as cursor:
            # The status guard makes a concurrent dispatcher (the outbox loop racing an on_commit
            # hook) match no row instead of pushing the run twice.
            cursor.execute(
                f"UPDATE {cls._meta.db_table} SET status = CASE WHEN run_after > %s THEN %s ELSE %s END, "
                "status_changed_at = %s, dispatches = dispatches + 1 "
                "WHERE id = ANY(%s::uuid[]) AND status = ANY(%s) RETURNING id, status, dispatches",
                [now, RunStatus.SCHEDULED, RunStatus.QUEUED, now, list(by_id), list(RunStatus.undispatched())],
            )
            rows = {str(run_id): (status, dispatches) for run_id, status, dispatches in cursor.fetchall()}
        moved = []
        for key, run in by_id.items():  # in the order given (RETURNING's is the scan's): lanes stay FIFO
            if key not in rows:
                continue
            old = run.status
            run.status, run.dispatches = rows[key]
            run.status_changed_at = now
            run._announce(old)
            moved.append(run)
        return moved
