"""``import slacore`` stays light: no connector, SDK, CLI or database module is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FORBIDDEN = (
    "slacore_connectors",
    "hubspot",
    "simple_salesforce",
    "requests",
    "sqlite3",
    "click",
    "rich",
    "pandas",
    "numpy",
)


def test_import_slacore_loads_only_the_core() -> None:
    code = "import json, sys, slacore; print(json.dumps(sorted(sys.modules)))"
    # Coverage measures subprocesses (and loads sqlite3 to do it): keep it out of this one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    loaded = json.loads(done.stdout)
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_public_names_are_exported() -> None:
    import slacore

    for name in slacore.__all__:
        assert hasattr(slacore, name), name
    assert slacore.__version__


def test_no_public_name_shadows_a_submodule() -> None:
    """``import slacore.planning.scorecards`` gives the module and ``slacore.scorecard`` the
    function: no name on the front door is also the name of a module beside it."""
    import importlib
    import pkgutil
    import types

    import slacore

    for info in pkgutil.iter_modules(slacore.__path__):
        assert info.name not in slacore.__all__, info.name
        module = importlib.import_module(f"slacore.{info.name}")
        assert isinstance(module, types.ModuleType)
        assert getattr(slacore, info.name) is module, info.name


def test_subpackages_give_modules() -> None:
    import importlib
    import types

    for name in (
        "slacore.planning.scorecards",
        "slacore.planning.escalation_ladder",
        "slacore.planning.rewards",
        "slacore.planning.reviews",
        "slacore.planning.lead_values",
        "slacore.calendar.business",
        "slacore.rules.response",
        "slacore.agreement",
        "slacore.connector",
    ):
        assert isinstance(importlib.import_module(name), types.ModuleType), name
