"""SQLite plumbing behind :class:`argosy.pipeline.store.Store`.

One database file under ``ARGOSY_HOME`` is shared by every ``argosy`` process on the machine,
so everything here is written for concurrent writers: WAL journal (readers never block),
a generous busy timeout, ``BEGIN IMMEDIATE`` for every read-modify-write (so two writers
queue up instead of deadlocking on a lock upgrade), and one connection per thread *and* per
process (a connection must never cross a ``fork``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy.errors import SpecError, StateError

__all__ = [
    "DEFAULT_NAMESPACE",
    "SCHEMA_VERSION",
    "ConflictError",
    "StoreBase",
    "dumps",
    "epoch_to_rfc3339",
    "generate_name",
    "now_rfc3339",
]

SCHEMA_VERSION = 1
DEFAULT_NAMESPACE = "default"
BUSY_TIMEOUT_SECONDS = 60.0

# Kubernetes' alphabet for generateName suffixes: no vowels (no accidental words), no 0/1/3.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_NAME_SUFFIX_LEN = 5
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ConflictError(StateError):
    """An update was based on a stale ``metadata.resourceVersion``: re-read and try again."""


def now_rfc3339() -> str:
    """The current UTC time the way Kubernetes writes timestamps (``2024-05-01T12:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_to_rfc3339(seconds: float) -> str:
    """Format a ``time.time()`` value like :func:`now_rfc3339`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str) -> str:
    """``prefix`` + 5 random characters, as the Kubernetes API server does for ``generateName``.

    Uses ``secrets`` rather than ``random`` so forked processes never share a sequence.
    """
    return prefix + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(_NAME_SUFFIX_LEN))


def check_dns_name(name: str, what: str) -> None:
    """Reject names Kubernetes would reject; workflow names also become directory names."""
    if not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise SpecError(
            f'{what} "{name}" is invalid: a lowercase RFC 1123 subdomain must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )


def dumps(obj: Any) -> str:
    """Compact JSON for storage (bodies can hold thousands of nodes)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# Each entry upgrades the schema from version i to i + 1.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE workflows (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        uid TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        finished TEXT,
        labels TEXT NOT NULL DEFAULT '{}',
        resource_version INTEGER NOT NULL,
        summary TEXT NOT NULL,
        UNIQUE (namespace, name)
    );
    CREATE INDEX workflows_by_created ON workflows (created, seq);
    CREATE INDEX workflows_by_name ON workflows (name);
    CREATE INDEX workflows_by_phase ON workflows (phase);
    -- Full bodies live apart so listing never pages through megabytes of node status.
    CREATE TABLE workflow_bodies (
        seq INTEGER PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE documents (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL COLLATE NOCASE,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        uid TEXT NOT NULL,
        resource_version INTEGER NOT NULL,
        created TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (kind, namespace, name)
    );
    CREATE TABLE leases (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        start_time TEXT NOT NULL,
        acquired_at REAL NOT NULL,
        renewed_at REAL NOT NULL,
        PRIMARY KEY (namespace, name)
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_ts TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (namespace, workflow_name, dedupe_key)
    );
    CREATE TABLE memo_cache (
        namespace TEXT NOT NULL,
        cache_name TEXT NOT NULL,
        key TEXT NOT NULL,
        node_id TEXT NOT NULL,
        outputs TEXT NOT NULL,
        created_epoch REAL NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (namespace, cache_name, key)
    );
    CREATE TABLE gc_tasks (
        name TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        resource_version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX gc_tasks_by_workflow ON gc_tasks (workflow_name);
    """,
]
assert len(_MIGRATIONS) == SCHEMA_VERSION


class StoreBase:
    """Paths, per-thread connections, schema and transactions; the feature mixins build on it."""

    def __init__(self, home: Path | str | None = None) -> None:
        if home is None:
            home = os.environ.get("ARGOSY_HOME") or Path.home() / ".argosy"
        self.home = Path(home).expanduser().resolve()
        self.db_path = self.home / "state.db"
        self.logs_dir = self.home / "logs"
        self.artifacts_dir = self.home / "artifacts"
        self.runs_dir = self.home / "runs"
        for d in (self.home, self.logs_dir, self.artifacts_dir, self.runs_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._conn()  # fail fast (and create the schema) on a bad home

    def __repr__(self) -> str:
        return f"Store({str(self.home)!r})"

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this process opened (inherited ones from a parent are left alone)."""
        pid = os.getpid()
        with self._lock:
            mine = [c for p, c in self._connections if p == pid]
            self._connections = [(p, c) for p, c in self._connections if p != pid]
        for conn in mine:
            conn.close()
        self._local = threading.local()

    def _now(self) -> float:
        """Wall clock for expiry and staleness maths (a method so tests can move time on)."""
        return time.time()

    def log_path(self, workflow_name: str, pod_name: str, namespace: str | None = None, *, container: str = "main") -> Path:
        """Where a step's combined output is written: ``logs/<workflow>/<pod>.log`` (dir created).

        ``namespace`` and ``container`` have the cluster store's meaning; local workflow names are
        unique and a local step is one process, so another container's path never exists."""
        for part in (workflow_name, pod_name, container):
            if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
                raise SpecError(f"invalid name for a log file: {part!r}")
        path = self.logs_dir / workflow_name / (f"{pod_name}.log" if container == "main" else f"{pod_name}.{container}.log")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened afresh in a forked child (SQLite forbids sharing)."""
        pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == pid:
            return conn
        conn = self._open()
        self._local.conn, self._local.pid = conn, pid
        with self._lock:
            self._connections.append((pid, conn))
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.db_path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            self._set_wal(conn)
            # WAL + NORMAL cannot corrupt the database; power loss may only drop the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except sqlite3.DatabaseError as e:
            raise StateError(f"cannot open the state database {self.db_path}: {e}") from e
        return conn

    @staticmethod
    def _set_wal(conn: sqlite3.Connection) -> None:
        """Switch to WAL; several processes opening a fresh database at once may briefly collide."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() != "wal":
                raise StateError(f"the state database {conn} cannot use WAL mode (got {mode!r})")
            return

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Create or upgrade the schema; ``user_version`` says which migrations already ran."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the state database {self.db_path} has schema version {version}, newer than this "
                f"argosy understands ({SCHEMA_VERSION}); upgrade argosy or use another ARGOSY_HOME"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock from the start (no upgrade deadlock)."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StateError(f"the state database {self.db_path} is busy: {e}") from e
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            conn.execute("ROLLBACK")
            raise StateError(f"cannot commit to the state database {self.db_path}: {e}") from e

    def _query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        """Run one read statement (a consistent snapshot on its own in WAL mode)."""
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as e:
            raise StateError(f"cannot read the state database {self.db_path}: {e}") from e

    def _resolve_namespace(
        self, table: str, name: str, namespace: str | None, where: str = "", params: tuple[Any, ...] = ()
    ) -> str | None:
        """The namespace of ``name`` when the caller gave none: the only match, else ``default``.

        Lets ``argosy get NAME`` work without ``-n`` whatever namespace the document declared.
        Returns None when nothing matches; ambiguity is an error rather than a guess.
        """
        if namespace is not None:
            return namespace
        rows = self._query(f"SELECT DISTINCT namespace FROM {table} WHERE name = ? {where}", (name, *params))
        namespaces = sorted(r[0] for r in rows)
        if not namespaces:
            return None
        if len(namespaces) == 1:
            return str(namespaces[0])
        if DEFAULT_NAMESPACE in namespaces:
            return DEFAULT_NAMESPACE
        raise StateError(f'"{name}" exists in several namespaces ({", ".join(namespaces)}); give a namespace')
