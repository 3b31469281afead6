"""A worker's ledger writes on a helper thread, so they overlap RQ's own per-job Redis work."""

import threading
from concurrent.futures import ThreadPoolExecutor, wait

from django.db import DEFAULT_DB_ALIAS, connections


class LedgerThread:
    """Run ledger statements in order on a helper thread that borrows the worker's DB connection.

    Between dequeueing a job and calling its function RQ spends ~0.4 ms on Redis round trips of
    its own (the execution record, the started registry); the claim waits ~0.6 ms on Postgres.
    Sent from here when the job is dequeued, part of the one wait hides behind the other: +9%
    no-op jobs/s measured (bench/jobs_throughput.py), not more, because both threads need the GIL
    for their Python between the waits.

    The helper uses the worker's own connection, not one of its own: a claim must see exactly
    what the worker's transaction sees (tests run workers inside one), and one connection per
    worker is what operators size Postgres for. Two threads never use it at once: statements run
    one by one on the helper, and a query from any other thread first waits for them to finish
    (an execute wrapper), so the worker's own queries come after the writes it handed over.
    """

    def __init__(self):
        self._executor = None
        self._connection = None
        self._ident = None
        self._last = None

    @property
    def running(self):
        return self._executor is not None

    def start(self):
        """Borrow this thread's default connection for a helper thread (the worker's main thread)."""
        if self._executor is not None:
            return
        conn = connections[DEFAULT_DB_ALIAS]
        conn.inc_thread_sharing()
        conn.execute_wrappers.append(self._wait_for_helper)
        self._connection = conn
        self._executor = ThreadPoolExecutor(1, "engram-ledger", initializer=self._borrow, initargs=(conn,))

    def _borrow(self, conn):
        connections[DEFAULT_DB_ALIAS] = conn
        self._ident = threading.get_ident()

    def submit(self, fn, *args):
        """Run fn(*args) on the helper after everything submitted before it; return its Future."""
        conn = self._connection
        if conn.connection is None or not conn.health_check_done:
            # Open (and health-check) the connection here, never on the helper: the two threads
            # must not both open, check or replace the connection they share.
            self.drain()
            conn.close_if_health_check_failed()
            conn.ensure_connection()
        self._last = self._executor.submit(fn, *args)
        return self._last

    def drain(self):
        """Wait until every statement submitted so far has finished (their futures hold errors)."""
        last = self._last
        # Every query of the worker's thread passes here: a finished future costs one check.
        if last is not None and not last.done():
            wait([last])

    def _wait_for_helper(self, execute, sql, params, many, context):
        if threading.get_ident() != self._ident:
            self.drain()
        return execute(sql, params, many, context)

    def stop(self):
        """Finish what was submitted and give the connection back to its thread alone."""
        if self._executor is None:
            return
        self._executor.shutdown(wait=True)
        self._executor = self._last = self._ident = None
        conn, self._connection = self._connection, None
        conn.execute_wrappers.remove(self._wait_for_helper)
        conn.dec_thread_sharing()
