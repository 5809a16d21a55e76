"""The plugin hooks slacore calls, and the markers a plugin uses to implement them.

A plugin is a module (or any object) with functions marked ``@slacore.hookimpl`` and named
after a hook below. A function named ``slacore_*`` without the marker is an error when the
plugin registers, not a function slacore silently never calls. Installed plugins are found
through the ``slacore`` entry-point group and loaded on first use by
:func:`slacore.plugins.get_plugin_manager`; see ``docs/connectors.md``.

Every hook has the form ``slacore_register_<things>(register)``: slacore passes a callback and
keeps the registry itself, so it knows which package registered what and refuses a name
registered twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from slacore.connector import Connector

__all__ = ["PROJECT", "hookimpl", "hookspec", "slacore_register_connectors"]

PROJECT = "slacore"
"""The pluggy project name and the entry-point group plugins are found through."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a hook specification below; plugins do not need it."""
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's function as the implementation of the hook it is named after; also
exported as ``slacore.hookimpl``: ``@slacore.hookimpl def slacore_register_connectors(register)``.
"""


@hookspec
def slacore_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register connector classes: call ``register(ConnectorClass)`` once for each.

    A connector class subclasses :class:`slacore.connector.contract.Connector` and has a unique
    ``name``. Registering a name that another plugin (or the same one) already registered
    raises :class:`slacore.plugins.PluginError` naming both packages; nothing is renamed.

    Args:
        register: The callback; it takes the connector class (not an instance) and returns
            ``None``.

    """
