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
    "pyarrow",
    "polars",
)


def _python(code: str) -> str:
    """What ``code`` prints, run by a fresh interpreter."""
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
    return done.stdout


def test_import_slacore_loads_only_the_core() -> None:
    code = "import json, sys, slacore; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(_python(code))
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_to_arrow_without_pyarrow_names_the_extra() -> None:
    """Without pyarrow (or pandas), a table of results is one clear error naming what to
    install."""
    code = (
        "import sys\n"
        "class Missing:\n"  # as if the package were not installed
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pyarrow':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Missing())\n"
        "from datetime import UTC, datetime\n"
        "from slacore import ResponseRule\n"
        "report = ResponseRule(within='1h', clock='calendar').evaluate("
        "[], now=datetime(2026, 1, 1, tzinfo=UTC))\n"
        "try:\n"
        "    report.to_arrow()\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error.name, error)\n"
    )
    assert _python(code).strip() == (
        "pyarrow Arrow tables of results need pyarrow, which is not installed: "
        "pip install 'slacore[arrow]'"
    )
    without_pandas = code.replace("== 'pyarrow'", "== 'pandas'").replace("to_arrow", "to_pandas")
    assert _python(without_pandas).strip() == (
        "pandas to_pandas() needs pandas, which is not installed: pip install pandas"
    )


def test_public_names_are_exported() -> None:
    import slacore

    for name in slacore.__all__:
        assert hasattr(slacore, name), name
    assert slacore.__version__


def test_the_front_door_exports_the_core() -> None:
    """The model, the agreement, the rules and their selectors, the planning functions, every
    error and ``hookimpl``: each is on the front door, the same object as in its module."""
    import importlib
    import inspect
    import pkgutil

    import slacore
    import slacore.planning

    named = [
        "Agreement",
        "hookimpl",
        "hand_raisers",
        "source",
        "segment",
        "stage",
        "ALL",
        "Eligibility",
        "PluginError",
        "MissingColumnsError",
        "AgreementError",
        "scorecard",
        "escalation",
    ]
    exported: dict[str, object] = {}
    for source in ("slacore.model", "slacore.errors", "slacore.rules"):
        module = importlib.import_module(source)
        exported |= dict.fromkeys(module.__all__, module)
    for info in pkgutil.iter_modules(slacore.planning.__path__):
        module = importlib.import_module(f"slacore.planning.{info.name}")
        for name in module.__all__:
            if inspect.isfunction(getattr(module, name)):
                exported[name] = module
    for name in named:
        assert name in slacore.__all__, name
    for name, module in exported.items():
        assert name in slacore.__all__, f"{module}: {name}"
        assert getattr(slacore, name) is getattr(module, name), name


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
