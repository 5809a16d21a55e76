"""The connector plugin API: the contract, streams, settings, mappings and the registry.

A connector subclasses :class:`Connector` (:mod:`~slacore.connector.contract`), offers record
:class:`Stream` s and yields :class:`Batch` es (:mod:`~slacore.connector.streams`), declares its
:class:`Setting` s (:mod:`~slacore.connector.settings`), maps vendor fields with a
:class:`FieldMapping` (:mod:`~slacore.connector.mapping`), and is registered through the
``slacore`` entry-point group; :func:`list_connectors` and :func:`create_connector`
(:mod:`~slacore.connector.registry`) find it. Every public name of those modules is here; the
connector-author guide is ``docs/connectors.md``.
"""

from __future__ import annotations

from slacore.connector.column_batch import (
    ColumnBatch,
    column_schema,
    empty_table,
    records_table,
)
from slacore.connector.contract import Connector
from slacore.connector.mapping import (
    MAPPING_SETTINGS,
    CoreField,
    FieldMapping,
    RowMapper,
    core_fields,
    parse_time,
)
from slacore.connector.registry import (
    ConnectorInfo,
    create_connector,
    get_connector,
    list_connectors,
)
from slacore.connector.settings import Secret, Setting, SettingKind, Settings
from slacore.connector.streams import (
    Batch,
    Cursor,
    Record,
    RejectedRecord,
    Stream,
    rejected_frame,
    rejected_table,
)
from slacore.errors import MissingColumnsError

__all__ = [
    "MAPPING_SETTINGS",
    "Batch",
    "ColumnBatch",
    "Connector",
    "ConnectorInfo",
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
    "column_schema",
    "core_fields",
    "create_connector",
    "empty_table",
    "get_connector",
    "list_connectors",
    "parse_time",
    "records_table",
    "rejected_frame",
    "rejected_table",
]
