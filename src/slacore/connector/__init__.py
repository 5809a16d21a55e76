"""The connector plugin API: streams, cursors, batches, rejected records, settings and mappings.

A connector subclasses :class:`Connector` and is registered through the ``slacore`` entry-point
group; see the connector-author guide.
"""

from __future__ import annotations

from slacore.connector.contract import Connector
from slacore.connector.mapping import (
    MAPPING_SETTINGS,
    CoreField,
    FieldMapping,
    RowMapper,
    core_fields,
    parse_time,
)
from slacore.connector.settings import Secret, Setting, SettingKind, Settings
from slacore.connector.streams import Batch, Cursor, Record, RejectedRecord, Stream
from slacore.errors import MissingColumnsError

__all__ = [
    "MAPPING_SETTINGS",
    "Batch",
    "Connector",
    "CoreField",
    "Cursor",
    "FieldMapping",
    "MissingColumnsError",
    "Record",
    "RejectedRecord",
    "RowMapper",
    "Secret",
    "Setting",
    "SettingKind",
    "Settings",
    "Stream",
    "core_fields",
    "parse_time",
]
