"""Reading a connector's next batch while the sync stores the one before (private).

On the column path a batch costs about as much to read (the CSV split, checked and converted
a column at a time) as to store (staged, then written by the database, which releases the
GIL): :func:`read_ahead` runs the connector's iterator in a thread of its own, one batch
ahead of the sync, so the two overlap on a machine with a second core. What is stored, and
in which order, is unchanged: batches come out in the connector's order, an error the
connector raises comes out where it was raised (after the batches before it), and a sync
that stops early stops the reading too; a batch read ahead and never stored is dropped with
its cursor, so a resumed sync reads it again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Final, TypeVar

__all__ = ["read_ahead"]

_T = TypeVar("_T")

_POLL: Final = 0.05
"""Seconds the reading thread waits for room to read before it checks whether to stop."""


def read_ahead(
    items: Iterator[_T], *, name: str = "slacore-read-ahead"
) -> Generator[_T, None, None]:
    """``items``, each read in a thread of its own while the caller works on the one before.

    The thread reads one item beyond the one the caller holds, no more. When the caller
    stops early (closes this generator, or leaves it to be collected) the thread stops after
    the item it is reading and closes ``items`` (a generator's ``finally`` then runs there);
    the caller's close waits for it.

    Raises:
        Exception: Whatever ``items`` raised, in its place among the items (the thread's
            frames in its traceback).

    """
    handoff: queue.Queue[tuple[bool, _T | BaseException | None]] = queue.Queue()
    # Room to read one item: taken before each read, given back when the caller takes the
    # item before it, so the thread never reads two items ahead (memory: two batches).
    room = threading.Semaphore(1)
    stop = threading.Event()

    def wait_for_room() -> bool:
        while not stop.is_set():
            if room.acquire(timeout=_POLL):
                return True
        return False

    def produce() -> None:
        try:
            while wait_for_room():
                try:
                    item = next(items)
                except StopIteration:
                    handoff.put((False, None))
                    return
                handoff.put((True, item))
        except BaseException as error:  # handed to the caller, raised there
            handoff.put((False, error))
        finally:
            close = getattr(items, "close", None)
            if callable(close):
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            more, value = handoff.get()
            room.release()
            if not more:
                if isinstance(value, BaseException):
                    raise value
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
