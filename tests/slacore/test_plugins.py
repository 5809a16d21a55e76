"""Plugins: lazy loading through the ``slacore`` entry points, provenance, clashes, broken
plugins, ``slacore connectors``, and a third-party connector installed into a fresh venv."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

import slacore
from slacore import hookspecs, plugins
from slacore.connector import (
    Batch,
    Connector,
    ConnectorInfo,
    Cursor,
    Stream,
    create_connector,
    get_connector,
    list_connectors,
)
from slacore.errors import UnknownKeyError
from slacore.plugins import PluginError, get_plugin_manager, plugin_origin
from slacore.testing import ConnectorContract, plugin_manager

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "plugins" / "slacore-example-crm"


def clean_env(**extra: str) -> dict[str, str]:
    # No coverage hooks, no inherited module paths: the child sees only what is installed.
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("COVERAGE")}
    env.update(extra)
    return env


# --- connectors for in-process plugins -------------------------------------------------------


class NullConnector(Connector):
    name: ClassVar[str] = "null"
    description: ClassVar[str] = "reads nothing"
    streams: ClassVar[tuple[Stream, ...]] = (Stream.REPS,)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        yield Batch(stream=stream, records=[], cursor=Cursor(stream=stream))


class Plugin:
    """A plugin object registering the connector classes it is given."""

    def __init__(self, *connectors: object) -> None:
        self.connectors = connectors

    @slacore.hookimpl
    def slacore_register_connectors(self, register: Callable[[Any], None]) -> None:
        for connector in self.connectors:
            register(connector)


# --- the hook --------------------------------------------------------------------------------


def test_hook_slacore_register_connectors() -> None:
    manager = plugin_manager(Plugin(NullConnector))
    (info,) = list_connectors(plugin_manager=manager)
    assert info.name == "null"
    assert info.connector is NullConnector
    assert info.plugin == "Plugin"
    assert (info.package, info.version) == (None, None)  # registered in-process
    assert info.to_dict() == {
        "name": "null",
        "package": None,
        "version": None,
        "plugin": "Plugin",
        "description": "reads nothing",
        "streams": ["reps"],
        "clashes_with": [],
    }
    assert get_connector("null", plugin_manager=manager) is NullConnector
    assert isinstance(create_connector("null", {}, plugin_manager=manager), NullConnector)


def test_every_hook_is_documented_with_its_signature() -> None:
    page = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    for name in _hooks():
        parameters = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### `{name}({parameters})`" in page, name


def test_every_hook_has_a_test() -> None:
    for name in _hooks():
        assert f"test_hook_{name}" in globals(), name


def _hooks() -> list[str]:
    names = [name for name in hookspecs.__all__ if name.startswith("slacore_")]
    assert names
    return names


def test_hookimpl_is_reexported() -> None:
    assert slacore.hookimpl is hookspecs.hookimpl
    assert "hookimpl" in slacore.__all__


# --- the built-in csv connector through the entry point --------------------------------------


def test_csv_is_registered_through_the_entry_point() -> None:
    plugins._forget()
    assert plugins._manager is None
    manager = get_plugin_manager()
    assert get_plugin_manager() is manager  # loaded once, on first use
    infos = {info.name: info for info in list_connectors()}
    csv = infos["csv"]
    assert (csv.package, csv.version, csv.plugin) == ("slacore", slacore.__version__, "csv")
    assert csv.connector.__module__ == "slacore_connectors.csvfile"
    assert get_connector("csv").name == "csv"


def test_plugin_origin_names_the_package_or_none() -> None:
    manager = get_plugin_manager()
    assert plugin_origin(manager, manager.get_plugin("csv"), "csv") == (
        "slacore", slacore.__version__,
    )  # fmt: skip
    plugin = Plugin(NullConnector)
    local = plugin_manager(plugin)
    assert plugin_origin(local, plugin, local.get_name(plugin)) == (None, None)


def test_nothing_is_loaded_at_import() -> None:
    code = (
        "import json, sys, slacore\n"
        "before = sorted(m for m in sys.modules if m.startswith(('slacore', 'pluggy')))\n"
        "import slacore.connector as c\n"
        "c.list_connectors()\n"
        "after = 'slacore_connectors.csvfile' in sys.modules\n"
        "print(json.dumps([before, after]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=clean_env(),
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout)
    assert "slacore.plugins" not in before
    assert "slacore.connector" not in before
    assert not [m for m in before if m.startswith("slacore_connectors")]
    assert after is True


def test_a_test_plugin_manager_sees_only_what_it_is_given() -> None:
    assert list_connectors(plugin_manager=plugin_manager()) == ()
    names = [i.name for i in list_connectors(plugin_manager=plugin_manager(entry_points=True))]
    assert "csv" in names


def test_unknown_connector_lists_the_installed() -> None:
    with pytest.raises(UnknownKeyError) as info:
        get_connector("salesforse", plugin_manager=plugin_manager(Plugin(NullConnector)))
    assert info.value.known == ("null",)
    assert str(info.value) == "no connector 'salesforse' is installed (known: null)"


# --- clashes and broken plugins --------------------------------------------------------------


class OtherConnector(NullConnector):
    name = "other"


def test_two_plugins_registering_one_name_clash_on_that_name_only() -> None:
    class Rival(NullConnector):
        pass

    first, second = Plugin(NullConnector), Plugin(Rival, OtherConnector)
    manager = plugin_manager()
    manager.register(first, name="first")
    manager.register(second, name="second")
    infos = list_connectors(plugin_manager=manager)
    assert [(i.name, i.plugin, i.clashes_with) for i in infos] == [
        ("null", "first", ("plugin 'second'",)),
        ("null", "second", ("plugin 'first'",)),
        ("other", "second", ()),
    ]
    with pytest.raises(PluginError) as info:
        get_connector("null", plugin_manager=manager)
    assert str(info.value) == (
        "connector 'null' is registered twice: by plugin 'first' and by plugin 'second'; "
        "uninstall one of them, or name the plugins to load in SLACORE_LOAD_PLUGINS "
        "(comma-separated plugin names)"
    )
    assert set(info.value.plugins) == {"first", "second"}
    # the clash harms no other connector
    assert get_connector("other", plugin_manager=manager) is OtherConnector
    with pytest.raises(UnknownKeyError, match=r"\(known: null, other\)"):
        get_connector("nothing", plugin_manager=manager)


def test_one_plugin_registering_a_name_twice_is_an_error() -> None:
    manager = plugin_manager(Plugin(NullConnector, NullConnector))
    assert [i.clashes_with for i in list_connectors(plugin_manager=manager)] == [
        ("plugin 'Plugin'",), ("plugin 'Plugin'",),
    ]  # fmt: skip
    with pytest.raises(PluginError, match="registered twice"):
        get_connector("null", plugin_manager=manager)


@pytest.mark.parametrize(
    ("registered", "message"),
    [
        (object(), "not a slacore.connector.Connector subclass"),
        (NullConnector(), "not a slacore.connector.Connector subclass"),
        (type("Nameless", (NullConnector,), {"name": "Not OK"}), "lowercase letters"),
    ],
)
def test_registering_something_else_is_an_error(registered: object, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        list_connectors(plugin_manager=plugin_manager(Plugin(registered)))


def test_a_failing_hook_is_an_error_naming_the_plugin() -> None:
    class Failing:
        @slacore.hookimpl
        def slacore_register_connectors(self, register: Callable[[Any], None]) -> None:
            raise RuntimeError("cannot reach the vendor")

    with pytest.raises(PluginError, match="plugin 'Failing' failed in slacore_register_conn"):
        list_connectors(plugin_manager=plugin_manager(Failing()))


def test_a_misspelt_hook_is_an_error() -> None:
    class Misspelt:
        @slacore.hookimpl
        def slacore_register_conectors(self, register: Callable[[Any], None]) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginError, match="unknown hook 'slacore_register_conectors'"):
        plugin_manager(Misspelt())


def test_a_hook_function_without_the_marker_is_an_error() -> None:
    class Unmarked:
        def slacore_register_connectors(self, register: Callable[[Any], None]) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginError) as info:
        plugin_manager(Unmarked())
    assert str(info.value) == (
        "plugin 'Unmarked': function 'slacore_register_connectors' is named like a slacore hook "
        "but not marked @slacore.hookimpl, so slacore would never call it; mark it, or rename "
        "it if it is no hook"
    )
    assert info.value.plugins == ("Unmarked",)
    manager = plugin_manager()
    with pytest.raises(PluginError, match="function 'slacore_register_connectors' is named"):
        manager.register(Unmarked(), name="by-hand")
    assert not manager.has_plugin("by-hand")


def test_an_unmarked_hook_of_an_installed_plugin_names_it_and_its_package(
    fake_site: FakeSite,
) -> None:
    fake_site.add(
        "unmarked-crm", {"unmarked": "unmarked_plugin"},
        {"unmarked_plugin": "def slacore_register_connectors(register):\n    pass\n"
         "def slacore_helper():\n    pass\n"},
    )  # fmt: skip
    with pytest.raises(PluginError) as info:
        plugin_manager(entry_points=True)
    assert str(info.value).startswith(
        "plugin 'unmarked' from unmarked-crm 1.0: functions 'slacore_helper', "
        "'slacore_register_connectors' are named like slacore hooks but not marked "
        "@slacore.hookimpl"
    )
    done = slacore_cli("connectors", PYTHONPATH=_with_path(fake_site.root))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("slacore: error: plugin 'unmarked' from unmarked-crm 1.0: ")


def _with_path(folder: Path) -> str:
    return os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])


def test_a_hook_with_wrong_arguments_is_an_error(fake_site: FakeSite) -> None:
    fake_site.add(
        "wrong-args", {"wrong": "wrong_args_plugin"},
        {"wrong_args_plugin": "import slacore\n@slacore.hookimpl\n"
         "def slacore_register_connectors(registry):\n    pass\n"},
    )  # fmt: skip
    with pytest.raises(PluginError, match=r"plugin 'wrong' from wrong-args 1\.0: .*registry"):
        plugin_manager(entry_points=True)


# --- real entry points from packages on sys.path ---------------------------------------------


class FakeSite:
    """Installed distributions made by hand: a folder on ``sys.path`` with ``.dist-info``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def add(
        self, name: str, entry_points: Mapping[str, str], modules: Mapping[str, str],
        version: str = "1.0", where: Path | None = None,
    ) -> None:  # fmt: skip
        root = where or self.root
        info = root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[slacore]\n{lines}", encoding="utf-8")
        for module, source in modules.items():
            (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            self.modules.append(module)


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    site = FakeSite(tmp_path / "site")
    site.root.mkdir()
    monkeypatch.syspath_prepend(str(site.root))
    yield site
    for module in site.modules:
        sys.modules.pop(module, None)


CONNECTOR_MODULE = """
import slacore
from slacore.connector import Batch, Connector, Cursor, Stream

class {cls}(Connector):
    name = "{name}"
    streams = (Stream.LEADS,)

    def read_stream(self, stream, cursor):
        yield Batch(stream=stream, records=[], cursor=Cursor(stream=stream))

@slacore.hookimpl
def slacore_register_connectors(register):
    register({cls})
"""


def test_an_installed_plugin_is_listed_with_its_package(fake_site: FakeSite) -> None:
    fake_site.add(
        "acme-crm", {"acme": "acme_plugin"},
        {"acme_plugin": CONNECTOR_MODULE.format(cls="Acme", name="acme")}, version="2.3.1",
    )  # fmt: skip
    infos = {i.name: i for i in list_connectors(plugin_manager=plugin_manager(entry_points=True))}
    assert (infos["acme"].package, infos["acme"].version, infos["acme"].plugin) == (
        "acme-crm", "2.3.1", "acme",
    )  # fmt: skip
    assert infos["csv"].package == "slacore"


def test_a_plugin_taking_a_builtin_name_is_an_error_naming_both(fake_site: FakeSite) -> None:
    fake_site.add(
        "csv-plus", {"csvplus": "csvplus_plugin"},
        {"csvplus_plugin": CONNECTOR_MODULE.format(cls="CsvPlus", name="csv")},
    )  # fmt: skip
    manager = plugin_manager(entry_points=True)
    listed = [(i.name, i.package) for i in list_connectors(plugin_manager=manager)]
    assert ("csv", "slacore") in listed
    assert ("csv", "csv-plus") in listed
    with pytest.raises(PluginError) as info:
        get_connector("csv", plugin_manager=manager)
    message = str(info.value)
    assert "connector 'csv' is registered twice" in message
    assert "package slacore " in message
    assert "package csv-plus 1.0 (plugin 'csvplus')" in message
    assert set(info.value.plugins) == {"slacore", "csv-plus"}


def test_two_packages_declaring_one_plugin_name_is_an_error(
    fake_site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_site.add("one-crm", {"crm": "one_plugin"}, {"one_plugin": "X = 1\n"})
    fake_site.add("two-crm", {"crm": "two_plugin"}, {"two_plugin": "X = 2\n"})
    with pytest.raises(PluginError, match="two plugins are named 'crm': ") as info:
        plugin_manager(entry_points=True)
    assert set(info.value.plugins) == {"one-crm", "two-crm"}


def test_the_same_distribution_seen_twice_loads_once(
    fake_site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = {"twice_plugin": CONNECTOR_MODULE.format(cls="Twice", name="twice")}
    fake_site.add("twice", {"twice": "twice_plugin"}, source)
    copy = tmp_path / "copy"
    fake_site.add("twice", {"twice": "twice_plugin"}, source, where=copy)
    monkeypatch.syspath_prepend(str(copy))
    names = [i.name for i in list_connectors(plugin_manager=plugin_manager(entry_points=True))]
    assert names.count("twice") == 1


def test_a_plugin_that_fails_to_import_is_an_error_naming_it(fake_site: FakeSite) -> None:
    fake_site.add("broken-crm", {"broken": "broken_plugin"}, {"broken_plugin": "import nowhere\n"})
    with pytest.raises(PluginError) as info:
        plugin_manager(entry_points=True)
    assert str(info.value) == (
        "plugin 'broken' from broken-crm 1.0 failed to load: "
        "ModuleNotFoundError: No module named 'nowhere'; uninstall broken-crm, or set "
        "SLACORE_LOAD_PLUGINS to the plugins to load without it (installed: broken, csv, "
        "hubspot, salesforce)"
    )


def test_get_plugin_manager_retries_after_a_failed_load(fake_site: FakeSite) -> None:
    fake_site.add("broken-crm", {"broken": "broken_plugin"}, {"broken_plugin": "import nowhere\n"})
    plugins._forget()
    try:
        with pytest.raises(PluginError):
            get_plugin_manager()
        assert plugins._manager is None
    finally:
        plugins._forget()


# --- the command line ------------------------------------------------------------------------


def slacore_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def test_cli_connectors_json() -> None:
    done = slacore_cli("connectors", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    csv = next(c for c in data["connectors"] if c["name"] == "csv")
    assert csv["package"] == "slacore"
    assert csv["version"] == slacore.__version__
    assert "leads" in csv["streams"]
    assert done.stderr == ""


def test_cli_connectors_text() -> None:
    done = slacore_cli("connectors")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "| connector | package | version | description |"
    assert f"| csv | slacore | {slacore.__version__} | CSV files" in done.stdout


def test_cli_connectors_with_a_broken_plugin(fake_site: FakeSite) -> None:
    fake_site.add("broken-crm", {"broken": "broken_plugin"}, {"broken_plugin": "import nowhere\n"})
    path = os.pathsep.join([str(fake_site.root), os.environ.get("PYTHONPATH", "")])
    done = slacore_cli("connectors", "--json", PYTHONPATH=path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "slacore: error: plugin 'broken' from broken-crm 1.0 failed to load: "
        "ModuleNotFoundError: No module named 'nowhere'; uninstall broken-crm, or set "
        "SLACORE_LOAD_PLUGINS to the plugins to load without it"
    )
    assert done.stderr.count("\n") == 1
    # left out, it harms nothing
    done = slacore_cli("connectors", "--json", PYTHONPATH=path, SLACORE_LOAD_PLUGINS="csv")
    assert done.returncode == 0, done.stderr
    assert [c["name"] for c in json.loads(done.stdout)["connectors"]] == ["csv"]


# --- choosing the plugins: SLACORE_LOAD_PLUGINS -------------------------------------------


def add_rivals(site: FakeSite) -> None:
    """Two packages that both register a connector named ``dup``."""
    for number in ("one", "two"):
        site.add(
            f"dup-{number}", {f"dup_{number}": f"dup_{number}_plugin"},
            {f"dup_{number}_plugin": CONNECTOR_MODULE.format(cls="Dup", name="dup")},
        )  # fmt: skip


def test_load_plugins_chooses_the_installed_plugins(
    fake_site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_rivals(fake_site)

    def listed() -> list[tuple[str, str | None]]:
        manager = plugin_manager(entry_points=True)
        return [(i.name, i.package) for i in list_connectors(plugin_manager=manager)]

    assert listed() == [
        ("csv", "slacore"), ("dup", "dup-one"), ("dup", "dup-two"), ("hubspot", "slacore"),
        ("salesforce", "slacore"),
    ]  # fmt: skip
    monkeypatch.setenv("SLACORE_LOAD_PLUGINS", " dup_two, csv ,")
    assert listed() == [("csv", "slacore"), ("dup", "dup-two")]
    monkeypatch.setenv("SLACORE_LOAD_PLUGINS", "dup_one")
    assert listed() == [("dup", "dup-one")]
    monkeypatch.setenv("SLACORE_LOAD_PLUGINS", "")
    assert listed() == []
    monkeypatch.setenv("SLACORE_LOAD_PLUGINS", "csv,dup_three")
    with pytest.raises(PluginError) as info:
        plugin_manager(entry_points=True)
    assert str(info.value) == (
        "SLACORE_LOAD_PLUGINS names 'dup_three', which no installed package declares "
        "(installed plugins: csv, dup_one, dup_two, hubspot, salesforce)"
    )


def test_load_plugins_resolves_two_packages_declaring_one_name(
    fake_site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_site.add("one-crm", {"crm": "one_plugin"}, {"one_plugin": "X = 1\n"})
    fake_site.add("two-crm", {"crm": "two_plugin"}, {"two_plugin": "X = 2\n"})
    monkeypatch.setenv("SLACORE_LOAD_PLUGINS", "csv")
    assert [i.name for i in list_connectors(plugin_manager=plugin_manager(entry_points=True))] == [
        "csv"
    ]


def test_cli_connectors_lists_a_clash_marked(fake_site: FakeSite) -> None:
    add_rivals(fake_site)
    path = _with_path(fake_site.root)
    done = slacore_cli("connectors", PYTHONPATH=path)
    assert done.returncode == 0, done.stderr
    assert (
        "| dup | dup-one | 1.0 | CLASH: also registered by package dup-two 1.0 "
        "(plugin 'dup_two') |" in done.stdout
    )
    assert "| dup | dup-two | 1.0 | CLASH: also registered by package dup-one 1.0" in done.stdout
    assert f"| csv | slacore | {slacore.__version__} | CSV files" in done.stdout
    assert done.stderr == (
        "slacore: warning: connector 'dup' is registered twice: a source using it fails until "
        "one plugin is uninstalled or left out of SLACORE_LOAD_PLUGINS\n"
    )
    listed = json.loads(slacore_cli("connectors", "--json", PYTHONPATH=path).stdout)
    clashes = {(c["name"], c["package"]): c["clashes_with"] for c in listed["connectors"]}
    assert clashes == {
        ("csv", "slacore"): [],
        ("dup", "dup-one"): ["package dup-two 1.0 (plugin 'dup_two')"],
        ("dup", "dup-two"): ["package dup-one 1.0 (plugin 'dup_one')"],
        ("hubspot", "slacore"): [],
        ("salesforce", "slacore"): [],
    }
    chosen = slacore_cli("connectors", "--json", PYTHONPATH=path, SLACORE_LOAD_PLUGINS="dup_one")
    assert [(c["name"], c["package"]) for c in json.loads(chosen.stdout)["connectors"]] == [
        ("dup", "dup-one")
    ]
    assert chosen.stderr == ""


SYNC_JOB = """
store = "slacore.db"

[[sources]]
name = "crm"
connector = "csv"
[sources.settings]
path = "data"

[[sources]]
name = "rival"
connector = "dup"
"""


def test_a_clash_fails_only_the_sources_that_use_the_name(
    fake_site: FakeSite, tmp_path: Path
) -> None:
    add_rivals(fake_site)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "leads.csv").write_text(
        "id,created_at\nL-1,2026-03-02T09:15:00+00:00\n", encoding="utf-8"
    )
    job = tmp_path / "slacore.toml"
    job.write_text(SYNC_JOB, encoding="utf-8")
    path = _with_path(fake_site.root)
    done = slacore_cli("sync", "--json", "--config", str(job), PYTHONPATH=path)
    assert done.returncode == 1, done.stderr
    sources = {s["name"]: s for s in json.loads(done.stdout)["sources"]}
    assert sources["crm"]["status"] == "success"
    assert sources["crm"]["streams"]["leads"]["stored"] == 1
    assert sources["rival"]["status"] == "failed"
    assert sources["rival"]["error"].startswith(
        "connector 'dup' is registered twice: by package dup-one 1.0 (plugin 'dup_one') and "
        "by package dup-two 1.0 (plugin 'dup_two'); uninstall one of them"
    )
    # choosing one of the two plugins, the rival source syncs too
    done = slacore_cli(
        "sync", "--json", "--config", str(job), PYTHONPATH=path,
        SLACORE_LOAD_PLUGINS="csv,dup_two",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s["status"] for s in json.loads(done.stdout)["sources"]] == ["success", "success"]


# --- slacore plugins --------------------------------------------------------------------------


def test_list_plugins_names_package_version_and_hooks(fake_site: FakeSite) -> None:
    fake_site.add(
        "acme-crm", {"acme": "acme_plugin"},
        {"acme_plugin": CONNECTOR_MODULE.format(cls="Acme", name="acme")}, version="2.3.1",
    )  # fmt: skip
    fake_site.add("idle-crm", {"idle": "idle_plugin"}, {"idle_plugin": "X = 1\n"})
    infos = plugins.list_plugins(plugin_manager=plugin_manager(entry_points=True))
    assert [i.to_dict() for i in infos] == [
        {"name": "acme", "package": "acme-crm", "version": "2.3.1",
         "hooks": ["slacore_register_connectors"]},
        {"name": "csv", "package": "slacore", "version": slacore.__version__,
         "hooks": ["slacore_register_connectors"]},
        {"name": "hubspot", "package": "slacore", "version": slacore.__version__,
         "hooks": ["slacore_register_connectors"]},
        {"name": "idle", "package": "idle-crm", "version": "1.0", "hooks": []},
        {"name": "salesforce", "package": "slacore", "version": slacore.__version__,
         "hooks": ["slacore_register_connectors"]},
    ]  # fmt: skip
    local = plugins.list_plugins(plugin_manager=plugin_manager(Plugin(NullConnector)))
    assert local == (
        plugins.PluginInfo(name="Plugin", hooks=("slacore_register_connectors",)),
    )  # fmt: skip


def test_cli_plugins(fake_site: FakeSite) -> None:
    fake_site.add(
        "acme-crm", {"acme": "acme_plugin"},
        {"acme_plugin": CONNECTOR_MODULE.format(cls="Acme", name="acme")}, version="2.3.1",
    )  # fmt: skip
    path = _with_path(fake_site.root)
    done = slacore_cli("plugins", PYTHONPATH=path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "| plugin | package | version | hooks |\n"
        "| --- | --- | --- | --- |\n"
        "| acme | acme-crm | 2.3.1 | slacore_register_connectors |\n"
        f"| csv | slacore | {slacore.__version__} | slacore_register_connectors |\n"
        f"| hubspot | slacore | {slacore.__version__} | slacore_register_connectors |\n"
        f"| salesforce | slacore | {slacore.__version__} | slacore_register_connectors |\n"
    )
    done = slacore_cli("plugins", "--json", PYTHONPATH=path, SLACORE_LOAD_PLUGINS="acme")
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {
        "plugins": [
            {"name": "acme", "package": "acme-crm", "version": "2.3.1",
             "hooks": ["slacore_register_connectors"]},
        ]
    }  # fmt: skip
    done = slacore_cli("plugins", PYTHONPATH=path, SLACORE_LOAD_PLUGINS="")
    assert done.stdout == "no plugin is loaded (SLACORE_LOAD_PLUGINS is '')\n"


# --- a third-party connector, as a package of its own ----------------------------------------


def _load_example() -> ModuleType:
    name = "slacore_example_crm"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE / "src" / name / "__init__.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


example = _load_example()
CONTACTS = [
    {"contactId": "C-1", "createdAt": "2026-03-02T09:15:00Z", "lifecycle": "Marketing Qualified",
     "origin": "webinar", "updated": 100},
    {"contactId": "C-2", "createdAt": "2026-03-02T10:00:00Z", "lifecycle": "Sales Qualified",
     "updated": 200},
    {"contactId": "C-3", "createdAt": "soon", "lifecycle": "Sales Qualified", "updated": 300},
]  # fmt: skip


def write_contacts(path: Path, contacts: list[dict[str, Any]] = CONTACTS) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in contacts), encoding="utf-8")
    return path


class TestExampleCrmContract(ConnectorContract):
    connector_class = example.ExampleCrmConnector
    plugin = example

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Mapping[str, Any]:
        export = write_contacts(tmp_path / "contacts.jsonl")
        return {"export": str(export), "api_token": "example-token-123"}


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with slacore (this checkout) and slacore-example-crm."""
    root = tmp_path_factory.mktemp("venv") / "env"
    env = clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=600, env=env)
    python = root / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for target in (["-e", f"{ROOT}[cli]"], [str(EXAMPLE)]):
        done = subprocess.run(
            [*pip, *target], capture_output=True, text=True, timeout=600, env=env, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def _in_venv(venv: Path, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    return subprocess.run(
        [str(bin_dir / program), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )


def test_third_party_plugin_is_listed_by_the_cli(venv: Path) -> None:
    done = _in_venv(venv, "slacore", "connectors", "--json")
    assert done.returncode == 0, done.stderr
    found = {c["name"]: c for c in json.loads(done.stdout)["connectors"]}
    assert set(found) == {"csv", "example-crm", "hubspot", "salesforce"}
    assert (found["example-crm"]["package"], found["example-crm"]["version"]) == (
        "slacore-example-crm", "0.1.0",
    )  # fmt: skip
    assert found["example-crm"]["plugin"] == "example_crm"
    assert found["csv"]["package"] == "slacore"
    text = _in_venv(venv, "slacore", "connectors")
    assert "| example-crm | slacore-example-crm | 0.1.0 | Example CRM" in text.stdout


READ_IN_VENV = """
import importlib.util, json, sys
import slacore.connector
from slacore.connector import Cursor

connector = slacore.connector.create_connector(
    "example-crm", {"export": sys.argv[1], "api_token": "tok-never-shown"}
)
batches = list(connector.read("leads", Cursor.from_json(sys.argv[2]) if sys.argv[2] else None))
print(json.dumps({
    "isolated": sys.prefix != sys.base_prefix and importlib.util.find_spec("pandas") is None,
    "leads": [[r.id, r.stage, r.created_at.isoformat()] for b in batches for r in b.records],
    "rejected": [str(r) for b in batches for r in b.rejected],
    "cursor": batches[-1].cursor.to_json(),
    "repr": repr(connector),
}))
"""


def test_third_party_plugin_reads_records(venv: Path, tmp_path: Path) -> None:
    export = write_contacts(tmp_path / "contacts.jsonl")
    script = tmp_path / "read.py"
    script.write_text(READ_IN_VENV, encoding="utf-8")
    done = _in_venv(venv, "python", str(script), str(export), "")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["isolated"] is True  # a real venv: the test environment's packages are absent
    assert result["leads"] == [
        ["C-1", "mql", "2026-03-02T09:15:00+00:00"],
        ["C-2", "sql", "2026-03-02T10:00:00+00:00"],
    ]
    assert result["rejected"] == [
        "contacts.jsonl: record C-3: createdAt: expected a time like "
        "2026-01-05T09:30:00+01:00, got 'soon'"
    ]
    assert "tok-never-shown" not in result["repr"]
    # the next run reads only what changed since the cursor
    write_contacts(
        export, [*CONTACTS, {**CONTACTS[0], "lifecycle": "Sales Qualified", "updated": 400}]
    )
    again = _in_venv(venv, "python", str(script), str(export), result["cursor"])
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["leads"] == [["C-1", "sql", "2026-03-02T09:15:00+00:00"]]


def test_connector_info_is_frozen() -> None:
    info = ConnectorInfo(name="null", connector=NullConnector, plugin="p")
    with pytest.raises(AttributeError):
        info.name = "other"  # type: ignore[misc]
