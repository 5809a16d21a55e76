"""What a sync job reports: counts per stream, an outcome per source, the job's report.

:func:`slacore_connectors.sync.run_sync` returns a :class:`SyncReport`, one
:class:`SourceResult` per source it started, each with its :class:`StreamCounts` per stream;
the report reads as text (``slacore sync``) or as JSON-ready data.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from slacore.render import json_dict, markdown_table

__all__ = ["SourceResult", "StreamCounts", "SyncReport"]

_SIGNALS = {"SIGINT": int(signal.SIGINT), "SIGTERM": int(signal.SIGTERM)}
"""The signals a sync stops on, by name, with their numbers (the exit code is 128 + it)."""


@attrs.frozen(kw_only=True)
class StreamCounts:
    """What a sync did for one stream: records read, stored (new or changed), unchanged,
    rejected and deleted (the source's deletions of records the store held:
    :attr:`~slacore_connectors.store.BatchResult.deleted`), and the batches stored."""

    read: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    batches: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counts as a mapping."""
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class SourceResult:
    """The outcome of one source in a sync.

    Attributes:
        name: The source.
        connector: Its connector.
        status: ``success``; ``failed`` when the source or one of its streams was refused;
            ``partial`` when a signal stopped the sync while it read this source (what was
            stored stays, and the next sync resumes from it).
        streams: Counts per stream read.
        error: Why it failed, in one line (each refused stream's error, after its name).
        run_id: The store's id of this run.
        refused: The streams that could not be read (a file missing or empty, a vendor
            error), each with its error naming the file; the source's other streams were
            still read.
        notices: Per stream, what its read said that is neither a record nor a rejection
            (:attr:`slacore.connector.Batch.notices`: a last line waiting for its newline),
            one line each.

    """

    name: str
    connector: str
    status: str
    streams: Mapping[str, StreamCounts]
    error: str | None = None
    run_id: int | None = None
    refused: Mapping[str, str] = attrs.field(factory=dict)
    notices: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def run_counts(self) -> dict[str, dict[str, Any]]:
        """What the store keeps as the run's counts: per stream its counts and, when its
        read said any, its ``notices``."""
        kept: dict[str, dict[str, Any]] = {k: dict(v.to_dict()) for k, v in self.streams.items()}
        for stream, said in self.notices.items():
            kept.setdefault(stream, {})["notices"] = list(said)
        return kept


@attrs.frozen(kw_only=True)
class SyncReport:
    """The outcome of a sync job.

    Attributes:
        store: The store file.
        started_at: When the job started (UTC); also the "seen" time of what it stored.
        finished_at: When it ended.
        full: Whether it read from scratch.
        sources: One result per source it started (a stopped sync starts no more).
        stopped: The signal that stopped it after a stored batch (``"SIGINT"``, Ctrl-C, or
            ``"SIGTERM"``), or ``None`` when it ran to the end.

    """

    store: Path
    started_at: datetime
    finished_at: datetime
    full: bool
    sources: tuple[SourceResult, ...]
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every source succeeded."""
        return all(s.status == "success" for s in self.sources)

    @property
    def exit_code(self) -> int:
        """0 when every source succeeded, 1 when one failed or had a stream refused; 130
        when Ctrl-C (SIGINT) stopped the sync, 143 when SIGTERM did (128 + the signal)."""
        if self.stopped is not None:
            return 128 + _SIGNALS[self.stopped]
        return 0 if self.ok else 1

    @property
    def stored(self) -> int:
        """The records stored (new or changed) over every source and stream."""
        return sum(c.stored for s in self.sources for c in s.streams.values())

    def stop_line(self) -> str | None:
        """One line saying what stopped the sync and how much it stored, or ``None``."""
        if self.stopped is None:
            return None
        read = sum(c.read for s in self.sources for c in s.streams.values())
        return (
            f"stopped by {self.stopped} after a stored batch: {self.stored:,} records stored "
            f"({read:,} read); the next sync resumes from there"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report, JSON-ready."""
        return json_dict(
            {
                "store": str(self.store),
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "full": self.full,
                "ok": self.ok,
                "stopped": self.stopped,
                "sources": [
                    {
                        "name": s.name,
                        "connector": s.connector,
                        "status": s.status,
                        "error": s.error,
                        "run_id": s.run_id,
                        "streams": {k: v.to_dict() for k, v in s.streams.items()},
                        "refused": dict(s.refused),
                        "notices": {k: list(v) for k, v in s.notices.items()},
                    }
                    for s in self.sources
                ],
            }
        )

    def to_text(self) -> str:
        """A table per source (stream, read, stored, unchanged, rejected, deleted), then a
        line for each reason streams were refused (naming them) and each notice."""
        parts: list[str] = []
        for source in self.sources:
            head = f"{source.name} ({source.connector}): {source.status}"
            if source.error and not source.refused:
                head += f": {source.error}"
            rows = [
                [stream, c.read, c.stored, c.unchanged, c.rejected, c.deleted]
                for stream, c in source.streams.items()
            ]
            head_row = ["stream", "read", "stored", "unchanged", "rejected", "deleted"]
            table = markdown_table(head_row, rows)
            parts.append(f"{head}\n\n{table}" if rows else head)
            # Streams refused for one reason (a token refused refuses them all): one line.
            by_reason: dict[str, list[str]] = {}
            for stream, error in source.refused.items():
                by_reason.setdefault(error, []).append(stream)
            lines = [
                f"- {', '.join(streams)}: refused: {error}" for error, streams in by_reason.items()
            ]
            lines += [
                f"- {stream}: notice: {notice}"
                for stream, said in source.notices.items()
                for notice in said
            ]
            if lines:
                parts.append("\n".join(lines))
        took = (self.finished_at - self.started_at).total_seconds()
        parts.append(f"Store: {self.store} ({took:.1f} s)")
        line = self.stop_line()
        if line is not None:
            parts.append(line[0].upper() + line[1:] + ".")
        return "\n\n".join(parts)
