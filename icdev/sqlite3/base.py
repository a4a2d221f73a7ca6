"""Django's SQLite backend, with transactions begun and committed on the driver's connection.

Django begins each outermost ``atomic`` block with ``self.cursor().execute("BEGIN …")`` (a cursor
wrapper, the execute-wrapper chain and the query-log checks around one statement) and commits inside
a query-log context manager. On SQLite, where the statements themselves take a few microseconds,
that Python was about a tenth of a ledger append (README, "SQLite appends, third round"). Whenever
something could observe the difference (the query log is on: DEBUG or a test capturing queries; or
an execute wrapper is installed) Django's own path runs, so they see BEGIN and COMMIT as before.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper; only how BEGIN and COMMIT reach the driver differs."""

    def _start_transaction_under_autocommit(self):
        """BEGIN [mode] as Django's cursor would run it: the same checks, the same error wrapping."""
        if self.queries_logged or self.execute_wrappers:
            return super()._start_transaction_under_autocommit()
        self.validate_thread_sharing()  # what cursor() checks
        self.validate_no_broken_transaction()  # what the cursor wrapper checks before executing
        sql = "BEGIN" if self.transaction_mode is None else f"BEGIN {self.transaction_mode}"
        with self.wrap_database_errors:
            self.connection.execute(sql)
        return None

    def _commit(self):
        """COMMIT without the query-log context, which only acts when the query log is on."""
        if self.connection is None or self.queries_logged:
            return super()._commit()
        with self.wrap_database_errors:
            return self.connection.commit()
