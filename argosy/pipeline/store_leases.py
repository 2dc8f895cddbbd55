"""Which ``argosy`` process runs a workflow, so a crashed runner is noticed instead of looking busy forever.

An owner is ``host:pid:start-time``. The start time (``/proc/<pid>/stat`` field 22) makes a
recycled pid count as dead: a new process with the same pid has a different start time.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from argosy.pipeline.store_db import DEFAULT_NAMESPACE, StoreBase, epoch_to_rfc3339

__all__ = ["LeaseInfo", "LeasesMixin", "owner_is_alive", "process_owner", "process_start_time"]

_UNKNOWN_START = "?"
_PROC = Path("/proc")


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a workflow's lease; ``renewed_at`` is the holder's last sign of life."""

    workflow_name: str
    namespace: str
    owner: str
    host: str
    pid: int
    acquired_at: str
    renewed_at: str
    alive: bool


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), ``?`` without /proc, None if gone.

    Zombies count as gone: they have exited and only wait to be reaped.
    """
    if not (_PROC / "self" / "stat").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return _UNKNOWN_START
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may contain spaces and parens
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def process_owner(pid: int | None = None) -> str:
    """The lease owner string for a process (default: this one): ``host:pid:start-time``."""
    pid = os.getpid() if pid is None else pid
    return f"{_hostname()}:{pid}:{process_start_time(pid) or _UNKNOWN_START}"


def _parse_owner(owner: str) -> tuple[str, int, str]:
    """(host, pid, start time) of an owner string; a free-form owner names the calling process."""
    parts = owner.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1]), parts[2]
    me = process_owner().rsplit(":", 2)
    return me[0], int(me[1]), me[2]


def owner_is_alive(
    host: str, pid: int, start_time: str, *, renewed_at: float, ttl: float, now: float
) -> bool:
    """Whether the recorded process still runs; on another host only a recent renewal says so."""
    if host != _hostname():
        return now - renewed_at < ttl
    current = process_start_time(pid)
    if current is None:
        return False
    return _UNKNOWN_START in (current, start_time) or current == start_time


class LeasesMixin(StoreBase):
    """One lease per workflow, taken over automatically when its holder has died."""

    #: How long a lease held from another host stays valid without renewal (its pid cannot be checked).
    lease_ttl_seconds: float = 120.0

    def _lease_namespace(self, name: str, namespace: str | None) -> str:
        if namespace is not None:
            return namespace
        return (
            self._resolve_namespace("workflows", name, None)
            or self._resolve_namespace("leases", name, None)
            or DEFAULT_NAMESPACE
        )

    def acquire_lease(
        self, workflow_name: str, owner: str | None = None, *, namespace: str | None = None
    ) -> bool:
        """Take the lease if it is free, held by a dead process, or already ours; False if someone alive has it."""
        owner = owner or process_owner()
        host, pid, start = _parse_owner(owner)
        ns = self._lease_namespace(workflow_name, namespace)
        now = self._now()
        with self._write() as conn:
            row = conn.execute(
                "SELECT owner, host, pid, start_time, renewed_at FROM leases WHERE namespace = ? AND name = ?",
                (ns, workflow_name),
            ).fetchone()
            if row is not None and row[0] == owner:
                conn.execute(
                    "UPDATE leases SET renewed_at = ? WHERE namespace = ? AND name = ?",
                    (now, ns, workflow_name),
                )
                return True
            if row is not None and owner_is_alive(
                row[1], row[2], row[3], renewed_at=row[4], ttl=self.lease_ttl_seconds, now=now
            ):
                return False
            conn.execute(
                "INSERT OR REPLACE INTO leases (namespace, name, owner, host, pid, start_time, acquired_at,"
                " renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ns, workflow_name, owner, host, pid, start, now, now),
            )
        return True

    def renew_lease(
        self, workflow_name: str, owner: str | None = None, *, namespace: str | None = None
    ) -> bool:
        """Record a sign of life; False means the lease is no longer ours (taken over or released)."""
        ns = self._lease_namespace(workflow_name, namespace)
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE leases SET renewed_at = ? WHERE namespace = ? AND name = ? AND owner = ?",
                (self._now(), ns, workflow_name, owner or process_owner()),
            )
        return cur.rowcount > 0

    def release_lease(
        self,
        workflow_name: str,
        owner: str | None = None,
        *,
        namespace: str | None = None,
        force: bool = False,
    ) -> bool:
        """Give the lease up (only if ours, unless ``force``); True if a lease was removed."""
        ns = self._lease_namespace(workflow_name, namespace)
        sql, params = "DELETE FROM leases WHERE namespace = ? AND name = ?", [ns, workflow_name]
        if not force:
            sql += " AND owner = ?"
            params.append(owner or process_owner())
        with self._write() as conn:
            cur = conn.execute(sql, params)
        return cur.rowcount > 0

    def lease_info(self, workflow_name: str, *, namespace: str | None = None) -> LeaseInfo | None:
        """The current lease and whether its holder is still alive, or None when nobody holds it."""
        ns = self._lease_namespace(workflow_name, namespace)
        rows = self._query(
            "SELECT owner, host, pid, start_time, acquired_at, renewed_at FROM leases"
            " WHERE namespace = ? AND name = ?",
            (ns, workflow_name),
        )
        if not rows:
            return None
        owner, host, pid, start, acquired, renewed = rows[0]
        return LeaseInfo(
            workflow_name=workflow_name,
            namespace=ns,
            owner=owner,
            host=host,
            pid=pid,
            acquired_at=epoch_to_rfc3339(acquired),
            renewed_at=epoch_to_rfc3339(renewed),
            alive=owner_is_alive(
                host, pid, start, renewed_at=renewed, ttl=self.lease_ttl_seconds, now=self._now()
            ),
        )
