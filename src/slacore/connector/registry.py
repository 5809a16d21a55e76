"""The connector registry: which connectors are installed, from which package, by which name.

The registry asks every plugin's ``slacore_register_connectors`` hook, one plugin at a time,
passing a ``register`` callback, so it knows which plugin (and package) registered each
connector. A name registered twice, by two packages or by one, is an error that names both:
nothing is silently renamed or shadowed. Plugins load on first use (see :mod:`slacore.plugins`);
every function here takes an optional ``plugin_manager=`` so a test can pass its own
(:func:`slacore.testing.plugin_manager`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pluggy

from slacore.connector.contract import Connector
from slacore.errors import PluginError, SlacoreError, UnknownKeyError, ValidationError
from slacore.plugins import get_plugin_manager, plugin_origin

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

    """

    name: str
    connector: type[Connector]
    plugin: str
    package: str | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The connector's description as a JSON-ready mapping."""
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version,
            "plugin": self.plugin,
            "description": self.connector.description,
            "streams": [stream.value for stream in self.connector.streams],
        }


def list_connectors(
    *, plugin_manager: pluggy.PluginManager | None = None
) -> tuple[ConnectorInfo, ...]:
    """Every registered connector with its package and version, sorted by name.

    Args:
        plugin_manager: The plugin manager to ask; default :func:`get_plugin_manager`.

    Raises:
        PluginError: Two registrations share a name (the message names both packages), a
            plugin registers something that is not a :class:`~slacore.connector.contract.Connector`
            subclass, or a plugin fails to load.

    """
    manager = get_plugin_manager() if plugin_manager is None else plugin_manager
    found: dict[str, ConnectorInfo] = {}
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
            clash = found.get(connector.name)
            if clash is not None:
                first = _who(clash.plugin, clash.package, clash.version)
                second = _who(_plugin, _package, _version)
                raise PluginError(
                    message=f"connector {connector.name!r} is registered twice: by {first} and "
                    f"by {second}; uninstall one of them",
                    plugins=(clash.package or clash.plugin, _package or _plugin),
                )
            found[connector.name] = ConnectorInfo(
                name=connector.name,
                connector=connector,
                plugin=_plugin,
                package=_package,
                version=_version,
            )

        _call(impl, {"register": register})
    return tuple(found[name] for name in sorted(found))


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
        PluginError: As :func:`list_connectors`.

    """
    infos = list_connectors(plugin_manager=plugin_manager)
    for info in infos:
        if info.name == name:
            return info.connector
    raise UnknownKeyError(
        message=f"no connector {name!r} is installed",
        key=name,
        known=tuple(info.name for info in infos),
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
