"""A slacore connector for TinyCRM, the made-up CRM of the connector tutorial.

TinyCRM exports a folder of JSON Lines files: ``contacts.jsonl`` (one contact a line) and
``calls.jsonl`` (one call a line). Times are wall-clock times of the account's time zone,
without an offset; every record carries ``updatedAt``, milliseconds since 1970. This module is
the tutorial's finished code (docs/connectors.md); slacore's tests run the connector contract
against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import slacore
from slacore.connector import (
    MAPPING_SETTINGS,
    Batch,
    Connector,
    Cursor,
    FieldMapping,
    Setting,
    SettingKind,
    Stream,
)

__all__ = ["TinyCrmConnector", "slacore_register_connectors"]


# --8<-- [start:class]
class TinyCrmConnector(Connector):
    """Leads and calls from a TinyCRM export folder."""

    name: ClassVar[str] = "tinycrm"
    description: ClassVar[str] = "TinyCRM: contacts.jsonl and calls.jsonl exports"
    streams: ClassVar[tuple[Stream, ...]] = (Stream.LEADS, Stream.TOUCHES)
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting(
            name="folder",
            kind=SettingKind.PATH,
            required=True,
            help="the export folder with contacts.jsonl and calls.jsonl",
        ),
        Setting(name="batch_size", kind=SettingKind.INTEGER, default=1000, minimum=1),
        *MAPPING_SETTINGS,  # fields, stage_values, channel_values, stages, timezone, ...
    )
    # Which TinyCRM field feeds each core field; users can override these under `fields`.
    default_fields: ClassVar[dict[str, dict[str, str | None]]] = {
        "leads": {
            "id": "contactId",
            "created_at": "createdAt",
            "stage": "lifecycle",
            "owner_id": "ownerId",
            "source": "origin",
            "hand_raiser": "handRaiser",
        },
        "touches": {
            "lead_id": "contactId",
            "rep_id": "userId",
            "at": "startedAt",
            "channel": "type",
        },
    }
    default_stage_values: ClassVar[dict[str, str]] = {
        "Newsletter": "subscriber",
        "Contact": "lead",
        "Marketing Qualified": "mql",
        "Sales Accepted": "sal",
        "Sales Qualified": "sql",
        "Deal Open": "opportunity",
        "Customer": "customer",
    }
    default_channel_values: ClassVar[dict[str, str]] = {
        "Phone call": "call",
        "Email": "email",
        "Video meeting": "meeting",
    }
    # --8<-- [end:class]

    # --8<-- [start:read]
    files: ClassVar[dict[Stream, str]] = {
        Stream.LEADS: "contacts.jsonl",
        Stream.TOUCHES: "calls.jsonl",
    }

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield the records updated after the cursor, ``batch_size`` at a time."""
        since = None if cursor is None else cursor.state.get("updated_at")
        newest = since
        mapping = self.mapping(stream)
        path: Path = self.settings["folder"] / self.files[stream]
        page: list[dict[str, Any]] = []
        with path.open(encoding="utf-8") as export:
            for line in export:
                if not line.strip():
                    continue
                record = json.loads(line)
                updated = record.get("updatedAt", 0)
                if since is not None and updated <= since:
                    continue  # read in an earlier run
                newest = updated if newest is None else max(newest, updated)
                page.append(record)
                if len(page) == self.settings["batch_size"]:
                    # The file is not sorted by updatedAt, so the cursor may only move once
                    # the whole file is read: a run stopped half-way starts again at `since`.
                    yield self._batch(stream, mapping, page, path.name, since)
                    page = []
        yield self._batch(stream, mapping, page, path.name, newest)

    @staticmethod
    def _batch(
        stream: Stream,
        mapping: FieldMapping,
        page: list[dict[str, Any]],
        source: str,
        updated_at: object,
    ) -> Batch:
        records, rejected = mapping.map_many(page, source=source)
        state = {} if updated_at is None else {"updated_at": updated_at}
        return Batch(
            stream=stream,
            records=records,
            rejected=rejected,
            cursor=Cursor(stream=stream, state=state),
        )

    # --8<-- [end:read]


# --8<-- [start:hook]
@slacore.hookimpl
def slacore_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the TinyCRM connector with slacore."""
    register(TinyCrmConnector)


# --8<-- [end:hook]
