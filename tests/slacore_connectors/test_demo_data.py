"""The bundled demo data is exactly what examples/generate_demo.py makes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "src" / "slacore_connectors" / "demo"


def test_demo_data_is_fresh(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_demo", ROOT / "examples" / "generate_demo.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_demo"] = module
    spec.loader.exec_module(module)
    written = module.generate(tmp_path)
    assert 4_500 <= written["leads.csv"] <= 5_500
    for name in [*written, "../company_a.toml"]:
        fresh = (tmp_path / "data" / name).read_bytes()
        assert fresh == (PACKAGED / "data" / name).read_bytes(), (
            f"{name} is stale: run python examples/generate_demo.py"
        )
