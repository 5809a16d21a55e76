"""Example CRM for slacore: leads from a JSON Lines export, one contact a line.

Each line is a contact such as
``{"contactId": "C-1", "createdAt": "2026-03-02T09:15:00Z", "lifecycle": "Marketing Qualified",
"origin": "webinar", "updated": 1772442900000}``. The cursor is the highest ``updated`` read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import slacore
from slacore.connector import (
    MAPPING_SETTINGS,
    Batch,
    Connector,
    Cursor,
    Setting,
    SettingKind,
    Stream,
)

__all__ = ["ExampleCrmConnector", "slacore_register_connectors"]

BATCH = 1000


class ExampleCrmConnector(Connector):
    """Leads from an Example CRM contacts export."""

    name: ClassVar[str] = "example-crm"
    description: ClassVar[str] = "Example CRM: a JSON Lines export of contacts"
    streams: ClassVar[tuple[Stream, ...]] = (Stream.LEADS,)
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting(name="export", kind=SettingKind.PATH, required=True, help="the contacts file"),
        Setting(name="api_token", secret=True, help="the Example CRM token (never printed)"),
        *MAPPING_SETTINGS,
    )
    default_fields: ClassVar[dict[str, dict[str, str | None]]] = {
        "leads": {
            "id": "contactId",
            "created_at": "createdAt",
            "stage": "lifecycle",
            "source": "origin",
        }
    }
    default_stage_values: ClassVar[dict[str, str]] = {
        "Marketing Qualified": "mql",
        "Sales Qualified": "sql",
    }

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        since = cursor.state.get("updated") if cursor is not None else None
        newest = since
        mapping = self.mapping(stream)
        path = self.settings["export"]
        page: list[dict[str, Any]] = []
        with path.open(encoding="utf-8") as export:
            for line in export:
                if not line.strip():
                    continue
                contact = json.loads(line)
                updated = contact.get("updated", 0)
                if since is not None and updated <= since:
                    continue
                newest = updated if newest is None else max(newest, updated)
                page.append(contact)
                if len(page) == BATCH:
                    # The export is not sorted by "updated": until the whole file is read,
                    # the cursor stays where this run started.
                    yield self._batch(stream, mapping.map_many(page, source=path.name), since)
                    page = []
        yield self._batch(stream, mapping.map_many(page, source=path.name), newest)

    @staticmethod
    def _batch(stream: Stream, mapped: tuple[Any, Any], updated: Any) -> Batch:
        records, rejected = mapped
        state = {} if updated is None else {"updated": updated}
        return Batch(
            stream=stream,
            records=records,
            rejected=rejected,
            cursor=Cursor(stream=stream, state=state),
        )


@slacore.hookimpl
def slacore_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the Example CRM connector."""
    register(ExampleCrmConnector)
