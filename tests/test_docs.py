"""The documentation's examples run: every ```pycon block, and every docstring example."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import slacore

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").rglob("*.md"))
PYCON = re.compile(r"^```pycon\n(.*?)^```", re.MULTILINE | re.DOTALL)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _pages_with_examples() -> list[Path]:
    return [page for page in DOCS if PYCON.search(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_page_examples(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Examples name files relative to the repository root, as a reader's shell would be.
    monkeypatch.chdir(ROOT)
    text = page.read_text(encoding="utf-8")
    # All blocks of a page share one namespace, as a reader following along would.
    source = "\n".join(block.group(1) for block in PYCON.finditer(text))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(source, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) failed in {page.name}"
    assert result.attempted > 0


def _modules() -> list[str]:
    return [info.name for info in pkgutil.walk_packages(slacore.__path__, prefix="slacore.")]


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.failed == 0


def test_readme_shows_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install ".[all]" && slacore ' in readme
    assert "pip install nox && nox" in readme
