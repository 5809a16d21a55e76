"""The store: records, cursors, rejected rows and sync runs, behind one interface.

:func:`open_store` gives a :class:`Store` for a location: a file path or a ``sqlite:///`` URL
open the embedded :class:`SQLiteStore`; a path ending ``.duckdb`` or a ``duckdb:///`` URL the
:class:`DuckDBStore` (an existing file is opened by what it is). Sync jobs, the report and
the command line take the :class:`Store` interface, never a class.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from slacore_connectors.store._duck_open import file_engine
from slacore_connectors.store.base import (
    BatchResult,
    ColumnWriter,
    SourceConnectorError,
    Store,
    StoreError,
    SyncLockedError,
    SyncRun,
)
from slacore_connectors.store.duckdb import DuckDBStore
from slacore_connectors.store.duckdb_migrations import DUCKDB_SCHEMA_VERSION
from slacore_connectors.store.migrations import SCHEMA_VERSION
from slacore_connectors.store.sqlite import SQLiteStore

__all__ = [
    "DUCKDB_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "SCHEMES",
    "BatchResult",
    "ColumnWriter",
    "DuckDBStore",
    "SQLiteStore",
    "SourceConnectorError",
    "Store",
    "StoreError",
    "SyncLockedError",
    "SyncRun",
    "copy_store",
    "open_store",
    "store_engine",
    "store_path",
]

SCHEMES = ("sqlite", "duckdb")
"""The URL schemes :func:`open_store` knows."""

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def store_path(url: str | os.PathLike[str]) -> Path:
    """The file that a path, a ``sqlite:///`` or a ``duckdb:///`` URL names.

    The URL form follows SQLAlchemy's: ``sqlite:///data/sla.db`` is relative to the working
    folder, ``sqlite:////srv/sla.db`` absolute, ``sqlite://`` a throw-away in-memory store;
    ``duckdb:///data/sla.duckdb`` the same for a DuckDB store.

    >>> store_path("sqlite:///data/sla.db").as_posix()
    'data/sla.db'
    >>> store_path("sqlite:////srv/sla.db").as_posix()
    '/srv/sla.db'
    >>> store_path("duckdb:///data/sla.duckdb").as_posix()
    'data/sla.duckdb'

    Raises:
        StoreError: The URL's scheme is not one of :data:`SCHEMES`, or the URL names a host.

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
            message=f"expected {scheme}:///PATH (three slashes, then the file's path)", path=url
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
        url: A file path (``"slacore.db"``, ``"slacore.duckdb"``, a :class:`~pathlib.Path`)
            or a store URL (``"sqlite:///slacore.db"``, ``"duckdb:///slacore.duckdb"``; see
            :func:`store_path`); :func:`store_engine` says which store opens it.
        timeout: Seconds to wait for another writer (for DuckDB, another process holding
            the file) to finish before giving up.
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
    path = store_path(url)
    engine = DuckDBStore if store_engine(url) == "duckdb" else SQLiteStore
    return engine(path, timeout=timeout, locked=locked, read_only=read_only)


def store_engine(url: str | os.PathLike[str]) -> str:
    """Which engine :func:`open_store` opens a location with: ``"sqlite"`` or ``"duckdb"``.

    An existing file is opened by what it is (its header: an SQLite file starts with
    ``SQLite format 3``), whatever its name. A new (or empty) file is a DuckDB store when
    named by a ``duckdb:///`` URL or a path ending ``.duckdb``, an SQLite store otherwise
    (``.db``, ``.sqlite``, ``sqlite:///``).

    >>> store_engine("sla.duckdb"), store_engine("duckdb:///sla.db"), store_engine("sla.db")
    ('duckdb', 'duckdb', 'sqlite')

    Raises:
        StoreError: The URL's scheme is not one of :data:`SCHEMES`.

    """
    path = store_path(url)
    found = file_engine(path) if str(path) != ":memory:" else None
    if found is not None:
        return found
    if not isinstance(url, os.PathLike):
        match = _SCHEME.match(url)
        if match is not None:
            return match.group(1).lower()
    return "duckdb" if path.suffix.lower() == ".duckdb" else "sqlite"


def copy_store(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> dict[str, int]:
    """Copy the store at ``source`` into a new store at ``target`` (of the engine
    :func:`store_engine` chooses for it): every version of every record, runs, cursors,
    rejected records, sources and kept period results. ``slacore store migrate`` runs it.
    The copy holds ``source``'s sync lock and reads it in one read transaction: one
    consistent moment of it, whatever a sync does meanwhile.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> open_store(folder / "sla.db").close()
    >>> copied = copy_store(folder / "sla.db", folder / "sla.duckdb")
    >>> with open_store(folder / "sla.duckdb", read_only=True) as store:
    ...     type(store).__name__, copied["leads"]
    ('DuckDBStore', 0)

    Returns:
        The rows copied, per table.

    Raises:
        StoreError: ``target`` exists (nothing is written); ``source`` is missing or not a
            store, or an SQLite store of an older schema (a sync brings it up to date).
        SyncLockedError: A sync is running on ``source``; nothing was copied.

    """
    from slacore_connectors.store._copy import copy_store as copy

    return copy(source, target)
