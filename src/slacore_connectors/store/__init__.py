"""The store: records, cursors, rejected rows and sync runs, behind one interface.

:func:`open_store` gives a :class:`Store` for a location: a file path or a ``sqlite:///`` URL
open the embedded :class:`SQLiteStore`. Sync jobs, the report and the command line take the
:class:`Store` interface, never a class.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from slacore_connectors.store.base import (
    BatchResult,
    ColumnWriter,
    SourceConnectorError,
    Store,
    StoreError,
    SyncLockedError,
    SyncRun,
)
from slacore_connectors.store.migrations import SCHEMA_VERSION
from slacore_connectors.store.sqlite import SQLiteStore

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMES",
    "BatchResult",
    "ColumnWriter",
    "SQLiteStore",
    "SourceConnectorError",
    "Store",
    "StoreError",
    "SyncLockedError",
    "SyncRun",
    "open_store",
    "store_path",
]

SCHEMES = ("sqlite",)
"""The URL schemes :func:`open_store` knows."""

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def store_path(url: str | os.PathLike[str]) -> Path:
    """The SQLite file that a path or a ``sqlite:///`` URL names.

    The URL form follows SQLAlchemy's: ``sqlite:///data/sla.db`` is relative to the working
    folder, ``sqlite:////srv/sla.db`` absolute, ``sqlite://`` a throw-away in-memory store.

    >>> store_path("sqlite:///data/sla.db").as_posix()
    'data/sla.db'
    >>> store_path("sqlite:////srv/sla.db").as_posix()
    '/srv/sla.db'

    Raises:
        StoreError: The URL's scheme is not one of :data:`SCHEMES`, or a ``sqlite`` URL names
            a host.

    """
    if isinstance(url, os.PathLike):
        return Path(url)
    match = _SCHEME.match(url)
    if match is None:
        return Path(url)
    scheme = match.group(1).lower()
    if scheme not in SCHEMES:
        # The URL itself may carry a password: name only its scheme.
        supported = ", ".join(f"{s}:///PATH" for s in SCHEMES)
        raise StoreError(
            message=f"no store for URL scheme {scheme!r}: use a file path or {supported}"
        )
    rest = url[match.end() :]
    if rest in ("", "/:memory:"):
        return Path(":memory:")
    if not rest.startswith("/"):
        raise StoreError(
            message="expected sqlite:///PATH (three slashes, then the file's path)", path=url
        )
    return Path(rest[1:])


def open_store(
    url: str | os.PathLike[str],
    *,
    timeout: float = 30.0,
    locked: bool = False,
    read_only: bool = False,
) -> Store:
    """Open (creating if missing) the store at a location, or open an existing one to read.

    Opening to read never writes: not the store, not a file beside it. Opening to write
    creates a missing store; either way an existing database that is not a slacore store is
    refused untouched.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open_store(folder / "sla.db") as store:
    ...     store.count("leads")
    0

    Args:
        url: A file path (``"slacore.db"``, a :class:`~pathlib.Path`) or a store URL
            (``"sqlite:///slacore.db"``; see :func:`store_path`).
        timeout: Seconds to wait for another writer to finish before giving up.
        locked: Take the store's sync lock (:meth:`Store.lock`) before opening anything, and
            hold it until the store is closed: what a sync job does.
        read_only: Open an existing store to read it only (what a report does); a missing
            one is an error.

    Raises:
        StoreError: An unknown URL scheme; a missing store (``read_only``); a file that is
            not a slacore store, is damaged, cannot be written (unless ``read_only``) or was
            written by a newer slacore; a sync lock that cannot be taken. The error names
            the file.
        SyncLockedError: ``locked`` and another sync holds the lock; nothing was read or
            written.
        ValueError: Both ``locked`` and ``read_only``.

    """
    return SQLiteStore(store_path(url), timeout=timeout, locked=locked, read_only=read_only)
