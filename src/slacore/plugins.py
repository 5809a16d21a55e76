"""The plugin manager: finding plugins through the ``slacore`` entry points and loading them.

Plugins are found through the ``slacore`` entry-point group and loaded on first use by
:func:`get_plugin_manager`, never when ``slacore`` is imported. Every function that needs
plugins takes an optional ``plugin_manager=``, so a test can pass its own
(:func:`slacore.testing.plugin_manager`) and see nothing else that happens to be installed.

The built-in connectors (``csv``) register through the same entry-point group as any
third-party package. Two plugins of the same name are an error that names both. The
environment variable ``SLACORE_LOAD_PLUGINS`` (:data:`LOAD_PLUGINS`) chooses which of the
installed plugins load. What the
plugins register is kept by the registry that asks them: connectors by
:mod:`slacore.connector.registry`. What goes wrong raises :class:`~slacore.errors.PluginError`
(defined with the other core errors, importable from here too).
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import os
import sys
import threading
import types
import weakref
from collections.abc import Collection, Mapping
from typing import Any

import attrs
import pluggy

from slacore import hookspecs
from slacore.errors import PluginError

__all__ = [
    "GROUP",
    "LOAD_PLUGINS",
    "PluginError",
    "PluginInfo",
    "check_marked",
    "check_plugins",
    "get_plugin_manager",
    "list_plugins",
    "load_entry_points",
    "new_plugin_manager",
    "plugin_origin",
]

GROUP = hookspecs.PROJECT
"""The entry-point group plugins declare (``[project.entry-points.slacore]``)."""

LOAD_PLUGINS = "SLACORE_LOAD_PLUGINS"
"""The environment variable that chooses which installed plugins load: their entry-point
names, comma-separated (``csv,tinycrm``); empty, none. Unset, every installed plugin loads."""


# Where each entry-point plugin came from, per plugin manager: plugin name -> (package, version).
_ORIGINS: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, tuple[str, str]]] = (
    weakref.WeakKeyDictionary()
)
_manager: pluggy.PluginManager | None = None
_lock = threading.RLock()


def new_plugin_manager(*, entry_points: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with slacore's hook specifications.

    Args:
        entry_points: Whether to load the installed plugins (the ``slacore`` entry points).

    Raises:
        PluginError: An installed plugin fails to load, implements an unknown hook (a
            misspelt ``@hookimpl``), or shares its name with another plugin.

    """
    manager = _PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    if entry_points:
        load_entry_points(manager)
    return manager


class _PluginManager(pluggy.PluginManager):
    """A plugin manager that refuses a plugin with a ``slacore_*`` function not marked
    ``@slacore.hookimpl`` (pluggy would ignore it, and the plugin would do nothing)."""

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` as pluggy does, after checking that its hooks are marked.

        Raises:
            PluginError: A function named like a hook (``slacore_*``) is not marked.

        """
        check_marked(plugin, name or self.get_canonical_name(plugin))
        return super().register(plugin, name)


def check_marked(plugin: object, name: str, *, origin: str | None = None) -> None:
    """Fail if a function of ``plugin`` is named like a hook (``slacore_*``) but is not marked
    ``@slacore.hookimpl``: slacore would never call it.

    Args:
        plugin: The plugin (a module or any object with hooks).
        name: The name it is registered under, for the message.
        origin: The package and version it comes from, for the message.

    Raises:
        PluginError: Naming the plugin and every such function.

    """
    unmarked = []
    for attribute in sorted(dir(plugin)):
        if not attribute.startswith(f"{GROUP}_"):
            continue
        try:
            value = getattr(plugin, attribute)
        except Exception:  # a property that fails is no function
            continue
        if inspect.isroutine(value) and getattr(value, f"{GROUP}_impl", None) is None:
            unmarked.append(attribute)
    if not unmarked:
        return
    where = f"plugin {name!r}" + (f" from {origin}" if origin else "")
    names = ", ".join(repr(function) for function in unmarked)
    if len(unmarked) == 1:
        said = f"function {names} is named like a {GROUP} hook but not marked"
        fix = "mark it, or rename it if it is no hook"
    else:
        said = f"functions {names} are named like {GROUP} hooks but not marked"
        fix = "mark them, or rename those that are no hooks"
    raise PluginError(
        message=f"{where}: {said} @{GROUP}.hookimpl, so {GROUP} would never call "
        f"{'it' if len(unmarked) == 1 else 'them'}; {fix}",
        plugins=(name,),
    )


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager; the installed plugins load on the first call.

    Raises:
        PluginError: As :func:`new_plugin_manager`. A failed load is retried on the next call.

    """
    global _manager
    with _lock:
        if _manager is None:
            _manager = new_plugin_manager(entry_points=True)
        return _manager


def load_entry_points(
    plugin_manager: pluggy.PluginManager,
    *,
    group: str = GROUP,
    only: Collection[str] | None = None,
) -> None:
    """Load and register every plugin declared in the entry-point ``group``, then check them.

    The same entry point seen twice (a package on ``sys.path`` twice) loads once. Entry-point
    names must be unique: they are the plugins' names.

    Args:
        plugin_manager: The plugin manager to register the plugins with.
        group: The entry-point group to read; default ``slacore``.
        only: The names of the plugins to load; default the names the environment variable
            ``SLACORE_LOAD_PLUGINS`` lists (:data:`LOAD_PLUGINS`), or every plugin when it is
            not set.

    Raises:
        PluginError: A plugin fails to import, implements an unknown hook, or two packages
            declare plugins of the same name; ``only`` names a plugin no package declares.

    """
    origins = _ORIGINS.setdefault(plugin_manager, {})
    seen: dict[str, tuple[str, str, str]] = {}
    chosen = _chosen() if only is None else frozenset(only)
    declared = importlib.metadata.entry_points(group=group)
    if chosen is not None:
        missing = sorted(chosen - set(declared.names))
        if missing:
            raise PluginError(
                message=f"{LOAD_PLUGINS} names {', '.join(map(repr, missing))}, which no "
                "installed package declares (installed plugins: "
                f"{', '.join(sorted(set(declared.names))) or 'none'})",
                plugins=tuple(missing),
            )
    for entry_point in declared:
        dist = entry_point.dist
        package = dist.name if dist is not None else "an unknown package"
        version = dist.version if dist is not None else "?"
        name = entry_point.name
        if chosen is not None and name not in chosen:
            continue
        previous = seen.get(name)
        if previous is not None:
            if previous == (package, version, entry_point.value):
                continue
            raise PluginError(
                message=f"two plugins are named {name!r}: {_origin(previous[:2])} "
                f"({previous[2]}) and {_origin((package, version))} ({entry_point.value})",
                plugins=(previous[0], package),
            )
        seen[name] = (package, version, entry_point.value)
        registered = plugin_manager.get_plugin(name)
        if registered is not None:
            raise PluginError(
                message=f"plugin {name!r} from {_origin((package, version))} clashes with "
                f"a plugin already registered under that name ({_describe(registered)})",
                plugins=(package, _describe(registered)),
            )
        try:
            plugin = entry_point.load()
        except Exception as error:
            raise PluginError(
                message=f"plugin {name!r} from {_origin((package, version))} failed to "
                f"load: {type(error).__name__}: {error}; uninstall {package}, or set "
                f"{LOAD_PLUGINS} to the plugins to load without it (installed: "
                f"{', '.join(sorted(set(declared.names)))})",
                plugins=(package,),
            ) from error
        _register(plugin_manager, plugin, name, origin=f"{_origin((package, version))}")
        origins[name] = (package, version)
    check_plugins(plugin_manager)


def _chosen() -> frozenset[str] | None:
    """The plugin names ``SLACORE_LOAD_PLUGINS`` lists, or ``None`` when it is not set."""
    value = os.environ.get(LOAD_PLUGINS)
    if value is None:
        return None
    return frozenset(name.strip() for name in value.split(",") if name.strip())


def check_plugins(plugin_manager: pluggy.PluginManager) -> None:
    """Fail if a plugin implements a hook slacore does not have (usually a typo).

    Args:
        plugin_manager: The plugin manager whose plugins to check.

    Raises:
        PluginError: Naming the plugin and the unknown hook.

    """
    try:
        plugin_manager.check_pending()
    except pluggy.PluginValidationError as error:
        name = plugin_manager.get_name(error.plugin) or _describe(error.plugin)
        raise PluginError(
            message=f"plugin {name!r}: {_one_line(error)} (hooks: {', '.join(_hook_names())})",
            plugins=(name,),
        ) from error


def _hook_names() -> list[str]:
    return [name for name in hookspecs.__all__ if name.startswith(f"{GROUP}_")]


def _register(manager: pluggy.PluginManager, plugin: object, name: str, *, origin: str) -> None:
    check_marked(plugin, name, origin=origin)
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as error:
        raise PluginError(
            message=f"plugin {name!r} from {origin}: {_one_line(error)}", plugins=(name,)
        ) from error
    except ValueError as error:
        # pluggy refuses one module registered under two names
        raise PluginError(
            message=f"plugin {name!r} from {origin}: {error}", plugins=(name,)
        ) from error


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _origin(origin: tuple[str, str] | tuple[str, ...]) -> str:
    return " ".join(origin)


def _describe(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__name__


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def plugin_origin(
    manager: pluggy.PluginManager, plugin: object, name: str
) -> tuple[str | None, str | None]:
    """The installed distribution a registered plugin comes from, as ``(package, version)``.

    A plugin loaded from the ``slacore`` entry points is known by the package that declares
    it; one registered in-process is traced through its module to the distribution that
    holds it.

    Args:
        manager: The plugin manager the plugin is registered with.
        plugin: The plugin (a module or any object with hooks).
        name: The name it is registered under.

    Returns:
        The package and its version, or ``(None, None)`` for a plugin from no installed
        package (a plugin object a test registers, say).

    """
    known = _ORIGINS.get(manager, {}).get(name)
    if known is not None and manager.get_plugin(name) is plugin:
        return known
    for other, dist in manager.list_plugin_distinfo():
        if other is plugin:
            return dist.project_name, dist.version
    if isinstance(plugin, types.ModuleType):
        module = plugin.__name__
    elif isinstance(plugin, type):
        module = plugin.__module__
    else:
        module = type(plugin).__module__
    top = module.split(".")[0]
    if top in sys.modules:
        for package in _distributions().get(top, []):
            try:
                return package, importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:  # pragma: no cover - stale metadata
                continue
    return None, None


@attrs.frozen(kw_only=True)
class PluginInfo:
    """A loaded plugin, where it comes from and what it implements.

    Attributes:
        name: The plugin's name: its entry point's name (``csv``), or the name a test
            registered it under.
        package: The distribution it comes from, or ``None`` for a plugin from no installed
            package.
        version: That distribution's version, or ``None``.
        hooks: The hooks it implements (``slacore_register_connectors``), sorted.

    """

    name: str
    package: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The plugin's description as a JSON-ready mapping."""
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version,
            "hooks": list(self.hooks),
        }


def list_plugins(*, plugin_manager: pluggy.PluginManager | None = None) -> tuple[PluginInfo, ...]:
    """Every loaded plugin with its package, version and hooks, sorted by name.

    Args:
        plugin_manager: The plugin manager to ask; default :func:`get_plugin_manager` (the
            installed plugins, as ``SLACORE_LOAD_PLUGINS`` chooses them).

    Raises:
        PluginError: As :func:`get_plugin_manager`.

    Examples:
        >>> from slacore.testing import plugin_manager
        >>> list_plugins(plugin_manager=plugin_manager())
        ()

    """
    manager = get_plugin_manager() if plugin_manager is None else plugin_manager
    found = []
    for name, plugin in manager.list_name_plugin():
        if plugin is None:  # blocked
            continue
        package, version = plugin_origin(manager, plugin, name)
        hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or ())
        found.append(PluginInfo(name=name, package=package, version=version, hooks=tuple(hooks)))
    return tuple(sorted(found, key=lambda info: info.name))


def _forget() -> None:
    """Forget the process-wide plugin manager, so the next use loads the plugins again."""
    global _manager
    with _lock:
        _manager = None
