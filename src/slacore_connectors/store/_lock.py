"""The sync lock every embedded store takes, a file ``<store>.lock`` beside the store, and
the life cycle around it (a store is a context manager; closing it releases the lock).

Private to the stores: :class:`~slacore_connectors.store.SQLiteStore` and
:class:`~slacore_connectors.store.DuckDBStore` inherit :class:`_Locking`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from slacore_connectors.store.base import StoreError, SyncLockedError


class _Locking:
    """The sync lock of a store at ``path`` (:meth:`Store.lock`), counted in ``_locks``, and
    the store's life cycle: its connection ``_db``, closed by :meth:`close` (or the end of a
    ``with`` block), which then releases what ``_held`` holds (the lock of a store opened
    ``locked``)."""

    path: str
    _locks: int  # sync locks held by this store object
    _held: contextlib.ExitStack
    _db: Any  # the engine's connection

    if TYPE_CHECKING:  # the engine's own (its opening mixin)

        @contextlib.contextmanager
        def _sql(self, what: str) -> Iterator[None]: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (another process may open it then), and release the sync lock
        if it was opened locked."""
        try:
            with self._sql("close the store"):
                self._db.close()
        finally:
            self._held.close()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the sync lock, the file ``<store>.lock`` beside the store, for a block.

        A cross-platform file lock (``filelock``, installed by the ``slacore[sync]`` and
        ``slacore[cli]`` extras): it holds against other processes and other store objects,
        and the operating system releases it when a killed job dies.

        Raises:
            SyncLockedError: Another holder has the lock; nothing was read or written.

        """
        with self._sync_lock():
            yield

    def _sync_running(self) -> bool:
        """Whether another process holds this store's sync lock now (a sync is running).

        Asked without taking the lock: the lock file is not made, and is tested with a
        shared lock given back at once. Where the lock cannot be tested (not a POSIX system,
        no lock file, a file that will not open), no sync is known to run: False.
        """
        if self.path == ":memory:" or self._locks:
            return False
        try:
            import fcntl
        except ImportError:  # Windows: filelock locks another way
            return False
        try:
            probe = os.open(f"{self.path}.lock", os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # held exclusively: by a sync (filelock's flock)
        except OSError:
            return False
        finally:
            os.close(probe)  # closing gives the shared lock back
        return False

    @contextlib.contextmanager
    def _sync_lock(self) -> Iterator[None]:
        """The sync lock of :meth:`Store.lock`."""
        if self.path == ":memory:":
            # Nothing to share: an in-memory store is private to its connection.
            self._locks += 1
            try:
                yield
            finally:
                self._locks -= 1
            return
        # Imported here: reading a store needs no lock, so the report runs without the extra.
        import filelock

        lock_path = f"{self.path}.lock"
        lock = filelock.FileLock(lock_path, timeout=0)
        try:
            Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except filelock.Timeout:
            # filelock also times out when it cannot make the file at all (a folder such as
            # /proc): only a lock file that exists and opens is one another sync holds.
            try:
                with open(lock_path, "a"):
                    pass
            except OSError as error:
                raise StoreError(
                    message=f"cannot take the sync lock {lock_path}: {error.strerror or error}",
                    path=self.path,
                ) from error
            raise SyncLockedError(
                message=f"another sync is running on {self.path}; nothing was read or written",
                lock=lock_path,
            ) from None
        except OSError as error:
            # A read-only folder, or something in the way of the lock file.
            raise StoreError(
                message=f"cannot take the sync lock {lock_path}: {error.strerror or error}",
                path=self.path,
            ) from error
        self._locks += 1
        try:
            yield
        finally:
            self._locks -= 1
            lock.release()
