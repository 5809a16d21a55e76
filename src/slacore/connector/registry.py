"""The connector registry: which connectors are installed, from which package, by which name.

The registry asks every plugin's ``slacore_register_connectors`` hook, one plugin at a time,
passing a ``register`` callback, so it knows which plugin (and package) registered each
connector. A name registered twice, by two packages or by one, is a clash: nothing is
silently renamed or shadowed. :func:`list_connectors` lists every registration, a clashing one
marked (:attr:`ConnectorInfo.clashes_with`), and only asking for that name
(:func:`get_connector`) is an error that names both; the other connectors work. Plugins load
on first use (see :mod:`slacore.plugins`); every function here takes an optional
``plugin_manager=`` so a test can pass its own (:func:`slacore.testing.plugin_manager`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pluggy

from slacore.connector.contract import Connector
from slacore.errors import PluginError, SlacoreError, UnknownKeyError, ValidationError
from slacore.plugins import LOAD_PLUGINS, get_plugin_manager, plugin_origin

__all__ = ["ConnectorInfo", "create_connector", "get_connector", "list_connectors"]


@attrs.frozen(kw_only=True)
class ConnectorInfo:
    """An installed connector and where it comes from.

    Attributes:
        name: The connector's registered name.
        connector: The connector class.
        plugin: The name of the plugin that registered it (the entry point's name).
        package: The distribution it comes from (``slacore``, ``slacore-example-crm``), or
            ``None`` for a plugin registered in-process from no installed package.
        version: That distribution's version, or ``None``.
        clashes_with: The other registrations of the same name (``package slacore 0.1.0
            (plugin 'csv')``), empty unless the name clashes: then the connector cannot be
            used until one of them is uninstalled or left out (``SLACORE_LOAD_PLUGINS``).

    """

    name: str
    connector: type[Connector]
    plugin: str
    package: str | None = None
    version: str | None = None
    clashes_with: tuple[str, ...] = ()

    def origin(self) -> str:
        """Who registered it: ``package slacore 0.1.0 (plugin 'csv')``, or ``plugin 'csv'``
        for a plugin from no installed package."""
        return _who(self.plugin, self.package, self.version)

    def to_dict(self) -> dict[str, Any]:
        """The connector's description as a JSON-ready mapping."""
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version,
            "plugin": self.plugin,
            "description": self.connector.description,
            "streams": [stream.value for stream in self.connector.streams],
            "clashes_with": list(self.clashes_with),
        }


def list_connectors(
    *, plugin_manager: pluggy.PluginManager | None = None
) -> tuple[ConnectorInfo, ...]:
    """Every registered connector with its package and version, sorted by name.

    A name registered twice (by two plugins, or twice by one) is listed once for each
    registration, each marked with the others in :attr:`ConnectorInfo.clashes_with`.

    Args:
        plugin_manager: The plugin manager to ask; default :func:`get_plugin_manager`.

    Raises:
        PluginError: A plugin registers something that is not a
            :class:`~slacore.connector.contract.Connector` subclass, or fails to load.

    """
    manager = get_plugin_manager() if plugin_manager is None else plugin_manager
    found: dict[str, list[ConnectorInfo]] = {}
    for impl in manager.hook.slacore_register_connectors.get_hookimpls():
        if impl.hookwrapper or impl.wrapper:
            continue
        plugin_name = impl.plugin_name
        package, version = plugin_origin(manager, impl.plugin, plugin_name)

        def register(
            connector: type[Connector],
            *,
            _plugin: str = plugin_name,
            _package: str | None = package,
            _version: str | None = version,
        ) -> None:
            _check_connector(connector, _plugin)
            info = ConnectorInfo(
                name=connector.name,
                connector=connector,
                plugin=_plugin,
                package=_package,
                version=_version,
            )
            found.setdefault(connector.name, []).append(info)

        _call(impl, {"register": register})
    listed: list[ConnectorInfo] = []
    for name in sorted(found):
        infos = found[name]
        for info in infos:
            others = tuple(other.origin() for other in infos if other is not info)
            listed.append(attrs.evolve(info, clashes_with=others) if others else info)
    return tuple(listed)


def _call(impl: pluggy.HookImpl, arguments: Mapping[str, object]) -> None:
    # Called one plugin at a time, so the registry knows which plugin registered what.
    try:
        impl.function(*[arguments[name] for name in impl.argnames])
    except SlacoreError:
        raise
    except Exception as error:
        raise PluginError(
            message=f"plugin {impl.plugin_name!r} failed in slacore_register_connectors: "
            f"{type(error).__name__}: {error}",
            plugins=(impl.plugin_name,),
        ) from error


def _who(plugin: str, package: str | None, version: str | None) -> str:
    if package is None:
        return f"plugin {plugin!r}"
    return f"package {package} {version or ''}".rstrip() + f" (plugin {plugin!r})"


def _check_connector(connector: object, plugin: str) -> None:
    if not (isinstance(connector, type) and issubclass(connector, Connector)):
        raise PluginError(
            message=f"plugin {plugin!r} registered {connector!r}, which is not a "
            "slacore.connector.Connector subclass",
            plugins=(plugin,),
        )
    try:
        connector.check_class()
    except ValidationError as error:
        raise PluginError(message=f"plugin {plugin!r}: {error}", plugins=(plugin,)) from error


def get_connector(
    name: str, *, plugin_manager: pluggy.PluginManager | None = None
) -> type[Connector]:
    """The connector class registered as ``name``.

    Args:
        name: The registered name (``"csv"``).
        plugin_manager: The plugin manager to ask; default :func:`get_plugin_manager`.

    Raises:
        UnknownKeyError: No connector has that name (the message lists the installed ones).
        PluginError: Two plugins (or one, twice) registered that name: the message names
            both. As :func:`list_connectors` too.

    """
    infos = list_connectors(plugin_manager=plugin_manager)
    matching = [info for info in infos if info.name == name]
    if len(matching) > 1:
        origins = " and by ".join(info.origin() for info in matching)
        raise PluginError(
            message=f"connector {name!r} is registered twice: by {origins}; uninstall one of "
            f"them, or name the plugins to load in {LOAD_PLUGINS} (comma-separated "
            "plugin names)",
            plugins=tuple(info.package or info.plugin for info in matching),
        )
    if matching:
        return matching[0].connector
    raise UnknownKeyError(
        message=f"no connector {name!r} is installed",
        key=name,
        known=tuple(dict.fromkeys(info.name for info in infos)),
    )


def create_connector(
    name: str,
    settings: Mapping[str, Any] | None = None,
    *,
    plugin_manager: pluggy.PluginManager | None = None,
) -> Connector:
    """An instance of the connector ``name`` with ``settings``.

    Args:
        name: The registered name (``"csv"``).
        settings: The connector's settings (a TOML table, a dict), checked against its
            ``settings_schema``; ``None`` for none.
        plugin_manager: The plugin manager to ask; default :func:`get_plugin_manager`.

    Raises:
        UnknownKeyError: No connector has that name.
        ValidationError: The settings are invalid.
        PluginError: As :func:`list_connectors`.

    """
    return get_connector(name, plugin_manager=plugin_manager)(settings)
