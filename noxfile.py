"""The single list of checks. CI runs exactly these sessions (see .ci/run)."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "types", "docs"]
nox.options.error_on_missing_interpreters = False

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite with coverage, on every core (pytest-xdist; ``nox -s tests -- -n 0``
    runs it in one process)."""
    session.install("-e", ".[all,test]")
    session.run(
        "pytest",
        "--numprocesses=auto",
        "--dist=worksteal",
        "--cov",
        "--cov-report=term",
        *(session.posargs or ["-q"]),
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def types(session: nox.Session) -> None:
    """Type-check src/ with mypy --strict."""
    # slacore.testing imports pytest, so its types come from the test extra.
    session.install("-e", ".[all,test]", "mypy>=1.11")
    session.run("mypy", "--strict", "src/")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation; warnings are errors."""
    session.install("-e", ".[all,docs]")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(session.create_tmp() + "/site"))


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the peer benchmarks (on demand; not part of the default run)."""
    session.install("-e", ".[all,test,bench]", "businesstimedelta")
    for script in sorted(__import__("pathlib").Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
