"""The ``slacore`` command line.

Every command that prints figures accepts ``--json`` and then prints exactly one JSON document
on stdout. Errors go to stderr as one line. The exit statuses are the table of
docs/guide/cli.md: 0 done, 1 a failure of the work, 2 bad usage or bad input (a flag, a value,
a job file, an agreement file), 130 and 143 stopped by SIGINT or SIGTERM, 141 a closed stdout.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, NoReturn

import click

import slacore
from slacore.errors import ValidationError
from slacore.render import format_money
from slacore_connectors._arrow_memory import lean_arrow_pool, pandas_left_unloaded
from slacore_connectors._cli_errors import SlacoreGroup, one_line, run, set_debug
from slacore_connectors._cli_jobs import load_job
from slacore_connectors._cli_params import (
    CONFIG,
    COUNT,
    MONEY,
    MONEY_OR_ZERO,
    POSITIVE,
    RATE,
    PairType,
)
from slacore_connectors._cli_store import forget_command, store_group, sync_command
from slacore_connectors._progress import Progress

__all__ = ["cli", "main"]


@click.group(cls=SlacoreGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(slacore.__version__, prog_name="slacore")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=set_debug,
    help="Show the full traceback of an error, for a bug report (or set SLACORE_DEBUG=1).",
)
def cli() -> None:
    """Service-level agreements between marketing and sales, as code."""


for _command in (sync_command, forget_command, store_group):
    cli.add_command(_command)


@cli.command()
@click.option("--revenue", type=MONEY, help="The period's revenue goal.")
@click.option("--deal-value", type=MONEY, help="Average value of a deal.")
@click.option("--deals", type=COUNT, help="Deals needed (instead of --revenue/--deal-value).")
@click.option(
    "--rate",
    "rates",
    type=RATE,
    multiple=True,
    help="A stage's conversion rate to the next, top of the funnel first (repeatable).",
)
@click.option(
    "--stage",
    "named_stages",
    type=PairType(RATE),
    multiple=True,
    help="A named stage and its rate, NAME=RATE, top first (repeatable; instead of --rate).",
)
@click.option("--outcome", default="deal", show_default=True, help="Name of the last stage.")
@click.option("--reps", type=POSITIVE, help="Reps taking leads (for the capacity check).")
@click.option("--leads-per-rep", type=POSITIVE, help="Leads one rep can work per period.")
@click.option("--annual-revenue", type=MONEY, help="The annual revenue goal (run rate).")
@click.option(
    "--current-annual-revenue",
    type=MONEY,
    help="Today's annual revenue: the catch-up ramp starts at its run rate.",
)
@click.option(
    "--target-month",
    type=click.IntRange(1, 12),
    help="Month (1-12) by which the new run rate must be reached (catch-up plan).",
)
@click.option(
    "--actual",
    "actuals",
    type=MONEY_OR_ZERO,
    multiple=True,
    help="Revenue booked in a month so far, first month first (repeatable).",
)
@click.option("--year", type=click.IntRange(1900, 9999), help="Calendar year, for labels.")
@click.option(
    "--lead-value",
    "lead_values",
    type=PairType(MONEY_OR_ZERO),
    multiple=True,
    help="Value of one lead from a source, SOURCE=AMOUNT (repeatable).",
)
@click.option(
    "--mix",
    type=PairType(COUNT),
    multiple=True,
    help="Leads delivered from a source, SOURCE=COUNT (repeatable; needs --lead-value).",
)
@click.option("--quota", type=MONEY, help="Lead-value quota to compare the mix with.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def plan(
    revenue: Decimal | None,
    deal_value: Decimal | None,
    deals: int | None,
    rates: tuple[Fraction, ...],
    named_stages: tuple[tuple[str, Fraction], ...],
    outcome: str,
    reps: int | None,
    leads_per_rep: int | None,
    annual_revenue: Decimal | None,
    current_annual_revenue: Decimal | None,
    target_month: int | None,
    actuals: tuple[Decimal, ...],
    year: int | None,
    lead_values: tuple[tuple[str, Decimal], ...],
    mix: tuple[tuple[str, int], ...],
    quota: Decimal | None,
    as_json: bool,
) -> None:
    """Plan the numbers: run rate, catch-up, reverse funnel, capacity and lead value.

    \b
    Company X (seed 002): $5,000 a month at $100 a sale and a 50% win rate:
      slacore plan --revenue 5000 --deal-value 100 --rate 0.5
    Company A (seed 000): from $10M to $15M a year, on the new run rate by June:
      slacore plan --annual-revenue 15000000 --current-annual-revenue 10000000 \\
        --target-month 6 --year 2020
    """
    data: dict[str, Any] = {}
    text: list[str] = []

    if annual_revenue is not None:
        rate = slacore.run_rate(annual_revenue)
        data["monthly_run_rate"] = str(rate.per_period)
        text.append(f"Run rate: {rate.explain()}")
        if target_month is not None:
            current = (
                None
                if current_annual_revenue is None
                else slacore.run_rate(current_annual_revenue).per_period
            )
            if current is None and len(actuals) < target_month - 1:
                raise click.UsageError(
                    "--target-month needs --current-annual-revenue (or an --actual for "
                    "every month before it) to ramp from"
                )
            if current is not None:
                text.append(
                    f"Today's run rate: {format_money(current)} a month "
                    f"({format_money(current_annual_revenue or Decimal(0))} a year)."
                )
            plan_ = slacore.catch_up(
                annual_revenue,
                target_month=target_month,
                actuals=actuals,
                current_run_rate=current,
                year=year,
            )
            data["catch_up"] = plan_.to_dict()
            text.append("Catch-up: " + plan_.to_markdown())
    elif target_month is not None or actuals or current_annual_revenue is not None:
        raise click.UsageError(
            "--target-month, --actual and --current-annual-revenue need --annual-revenue"
        )

    if rates and named_stages:
        raise click.UsageError("give the stages with --rate or with --stage, not both")
    stages: list[Any] = list(named_stages) or list(rates)
    if stages or revenue is not None or deals is not None:
        if not stages:
            raise click.UsageError("the funnel needs at least one --rate (or --stage)")
        if deals is None and (revenue is None or deal_value is None):
            raise click.UsageError("the funnel needs --revenue and --deal-value, or --deals")
        if deals is not None and revenue is not None:
            raise click.UsageError("give --deals or --revenue, not both")
        funnel = slacore.reverse_funnel(
            stages=stages,
            revenue=revenue,
            deal_value=deal_value,
            deals=deals,
            outcome=outcome,
        )
        if reps is not None and leads_per_rep is not None:
            funnel = funnel.with_capacity(reps=reps, leads_per_rep=leads_per_rep)
        data.update(funnel.to_dict())
        text.append("Funnel: " + funnel.to_markdown())
    if (reps is None) != (leads_per_rep is None):
        raise click.UsageError("the capacity check needs both --reps and --leads-per-rep")
    if reps is not None and leads_per_rep is not None and "leads_needed" not in data:
        data["capacity"] = reps * leads_per_rep
        text.append(
            f"Capacity: {reps} reps x {leads_per_rep} leads = {reps * leads_per_rep} leads "
            "a period."
        )

    if lead_values:
        table = slacore.LeadValueTable.from_mapping(dict(lead_values))
        data["lead_values"] = table.to_dict()
        if mix:
            value = table.value_of(dict(mix), quota=quota)
            data["mix"] = value.to_dict()
            text.append("Lead value: " + value.to_markdown())
        elif quota is not None:
            needed = table.mix_for_quota(quota)
            data["quota_mix"] = needed.to_dict()
            text.append("Lead value: " + needed.explain())
        else:
            text.append("Lead values:\n\n" + table.to_markdown() + "\n")
    elif mix or quota is not None:
        raise click.UsageError("--mix and --quota need the values of leads: --lead-value")

    if not data:
        raise click.UsageError(
            "nothing to plan: give --annual-revenue, a funnel (--revenue, --deal-value, "
            "--rate) or --lead-value; see slacore plan --help"
        )
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(part.rstrip() + "\n" for part in text).rstrip())


@cli.command("connectors")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def connectors_command(as_json: bool) -> None:
    """List the installed connectors: name, package and version.

    \b
    Connectors are plugins found through the slacore entry-point group:
      slacore connectors --json
    """
    from slacore.connector import list_connectors
    from slacore.render import markdown_table

    infos = list_connectors()
    for name in dict.fromkeys(info.name for info in infos if info.clashes_with):
        click.echo(
            f"slacore: warning: connector {name!r} is registered twice: a source using it "
            "fails until one plugin is uninstalled or left out of SLACORE_LOAD_PLUGINS",
            err=True,
        )
    if as_json:
        click.echo(json.dumps({"connectors": [info.to_dict() for info in infos]}, indent=2))
        return
    rows = []
    for info in infos:
        description = info.connector.description
        if info.clashes_with:
            others = " and ".join(info.clashes_with)
            clash = f"CLASH: also registered by {others}"
            description = f"{clash}; {description}" if description else clash
        rows.append([info.name, info.package or "", info.version or "", description])
    click.echo(markdown_table(["connector", "package", "version", "description"], rows))


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def plugins_command(as_json: bool) -> None:
    """List the loaded plugins: name, package, version and the hooks each implements.

    \b
    A plugin's name is its entry point's name; SLACORE_LOAD_PLUGINS (comma-separated
    names, empty for none) chooses which installed plugins load:
      slacore plugins --json
      SLACORE_LOAD_PLUGINS=csv slacore plugins
    """
    import os

    from slacore.plugins import LOAD_PLUGINS, list_plugins
    from slacore.render import markdown_table

    infos = list_plugins()
    if as_json:
        click.echo(json.dumps({"plugins": [info.to_dict() for info in infos]}, indent=2))
        return
    if not infos:
        chosen = os.environ.get(LOAD_PLUGINS)
        said = "" if chosen is None else f" ({LOAD_PLUGINS} is {chosen!r})"
        click.echo(f"no plugin is loaded{said}")
        return
    rows = [
        [info.name, info.package or "", info.version or "", ", ".join(info.hooks)] for info in infos
    ]
    click.echo(markdown_table(["plugin", "package", "version", "hooks"], rows))


_AGREEMENT_FILE = click.Path(exists=True, dir_okay=False)


def _emit(text: str, output: str | None) -> bool:
    """Print ``text``, or write it to the file ``output``; whether a file was written."""
    from pathlib import Path

    if output is None:
        click.echo(text, nl=False)
        return False
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.FileError(output, hint=error.strerror or str(error)) from None
    return True


def _report_agreement_errors(errors: Sequence[ValidationError]) -> NoReturn:
    """Every problem of an agreement file on stderr, one a line; exit 1 (``check``'s list)."""
    for error in errors:
        click.echo(str(error), err=True)
    raise SystemExit(1)


def _agreement_failed(file: object, errors: Sequence[ValidationError]) -> NoReturn:
    """An agreement that cannot be used: ``slacore: error:`` and the problem, or a summary
    line and then every problem, one a line, as for a job file; bad input, exit 2."""
    if len(errors) == 1:
        click.echo(f"slacore: error: {one_line(str(errors[0]))}", err=True)
    else:
        click.echo(
            f"slacore: error: bad agreement file: {len(errors)} problems in {file}", err=True
        )
        for error in errors:
            click.echo(one_line(str(error)), err=True)
    raise SystemExit(2)


@cli.command("check")
@click.argument("file", type=_AGREEMENT_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def check_command(file: str, as_json: bool) -> None:
    """Validate an agreement file: every problem with its line, or a one-line summary.

    \b
    Exits 0 when the file is valid, 1 when it has problems (each on its own line,
    FILE:LINE: key.path: message):
      slacore check examples/company_a.toml
      slacore check examples/company_a.toml --json
    """
    from slacore.agreement import Agreement, AgreementError

    try:
        agreement = Agreement.load(file)
    except AgreementError as error:
        if not as_json:
            _report_agreement_errors(error.errors)
        problems = [
            {"file": e.file, "line": e.line, "key": e.field, "message": e.message}
            for e in error.errors
        ]
        click.echo(json.dumps({"valid": False, "errors": problems, "summary": None}, indent=2))
        raise SystemExit(1) from None
    if as_json:
        document = {"valid": True, "errors": [], "summary": agreement.summary()}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"{file}: valid: {agreement.describe()}")


@cli.command("render")
@click.argument("file", type=_AGREEMENT_FILE)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
    help="Markdown, or one self-contained HTML file that prints well.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the document to this file instead of stdout.",
)
def render_command(file: str, output_format: str, output: str | None) -> None:
    """Write the agreement document both teams sign.

    \b
      slacore render examples/company_a.toml
      slacore render examples/company_a.toml --format html --output company_a.html
    """

    from slacore.agreement import Agreement, AgreementError

    try:
        agreement = Agreement.load(file)
    except AgreementError as error:
        _agreement_failed(file, error.errors)
    document = agreement.to_html() if output_format == "html" else agreement.to_markdown()
    _emit(document, output)


def _as_of(value: str | None, zone: Any) -> Any:
    """``--as-of``: a date (the end of that day, in the agreement's zone) or an aware time."""
    from datetime import date, datetime, time, timedelta

    from slacore_connectors.report.build import FIRST_YEAR, LAST_YEAR

    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise click.BadParameter(
                f"expected a date in the years {FIRST_YEAR} to {LAST_YEAR}, got {value!r}",
                param_hint="'--as-of'",
            )
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"expected a date like 2020-07-01 or a time with its offset, got {value!r}",
            param_hint="'--as-of'",
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"a time needs its offset, like {value}+00:00", param_hint="'--as-of'"
        )
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise click.BadParameter(
            f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR}, got {value!r}",
            param_hint="'--as-of'",
        )
    return moment


def _write_report(report: Any, output_format: str, output: str | None) -> None:

    if output_format == "json":
        from slacore_connectors.report._json import indented

        text = indented(report.to_dict()) + "\n"
    elif output_format == "html":
        text = report.to_html()
    else:
        text = report.to_markdown()
    if _emit(text, output):
        click.echo(f"wrote {output}", err=True)


_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "html", "json"]),
    default="text",
    show_default=True,
    help="text and markdown are the same Markdown; html is one self-contained page.",
)


@cli.command("report")
@CONFIG
@click.option("--period", help="The period to report, e.g. 2020-06 (default: the latest).")
@click.option("--as-of", "as_of", help="Report as the store stood then: a date or a time.")
@_FORMAT
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file.")
def report_command(
    config_path: str,
    period: str | None,
    as_of: str | None,
    output_format: str,
    as_json: bool,
    output: str | None,
) -> None:
    """Evaluate the agreement on the store for one period and report.

    \b
    Response SLA and its distribution, the Don't Be On It dashboard, cadence, marketing
    pacing, the scorecard with escalation and rewards, and rejected records. On the store
    that slacore demo makes:
      slacore report --period 2020-06
      slacore report --format html --output report.html
      slacore report --period 2020-05 --json

    \b
    --as-of DAY reports as the store stood at the end of DAY, so a past report comes out
    the same after later syncs. A period (or an --as-of before the first sync) without
    hand-offs has nothing to report: exit 1, saying which periods the store holds.
    """
    from slacore.agreement import Agreement, AgreementError
    from slacore_connectors.report.build import build_report, period_span
    from slacore_connectors.store import open_store

    config = load_job(config_path, secrets=False)
    if config.agreement is None:
        raise click.UsageError('the job file names no agreement: add agreement = "FILE"')
    if not config.agreement.is_file():
        raise click.UsageError(
            f"bad job file: agreement: no such file: {config.agreement} (the path is relative "
            "to the job file)"
        )
    try:
        agreement = Agreement.load(config.agreement)
    except AgreementError as error:
        _agreement_failed(config.agreement, error.errors)
    if period is not None:
        try:
            period_span(agreement, period)
        except ValidationError as error:
            # A malformed or out-of-range --period is a bad value: exit 2.
            raise click.BadParameter(error.message, param_hint="'--period'") from None
    if not config.store.exists():
        raise click.UsageError(f"no store at {config.store} yet: run slacore sync first")
    zone = agreement.calendar.zone if agreement.calendar is not None else None
    moment = _as_of(as_of, zone)
    lean_arrow_pool()  # the report reads the store into Arrow tables
    with pandas_left_unloaded(), open_store(config.store, read_only=True) as store:
        report = build_report(store, agreement, period=period, as_of=moment)
    _write_report(report, "json" if as_json else output_format, output)


@cli.command("demo")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    help="Where to put the demo (default: a new temporary folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
def demo_command(folder: str | None, as_json: bool) -> None:
    """Sync the bundled Company A example into a fresh store and report on it.

    \b
    Copies three months of CRM exports (CSV) and Company A's agreement to a folder,
    syncs them through the csv connector into a new SQLite store, prints the report for
    the latest month and writes it as HTML too.
    """
    import shutil
    import tempfile
    from importlib.resources import as_file, files
    from pathlib import Path

    from slacore.agreement import Agreement
    from slacore_connectors.report.build import build_report
    from slacore_connectors.store import open_store
    from slacore_connectors.sync import JobConfig, run_sync

    target = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="slacore-demo-"))
    job = target / "slacore.toml"
    try:
        with as_file(files("slacore_connectors") / "demo") as bundled:
            shutil.copytree(bundled, target, dirs_exist_ok=True)
        job.write_text(_DEMO_JOB, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(
            f"cannot write the demo to {target}: {error.strerror or error}"
        ) from None
    config = JobConfig.load(job)
    lean_arrow_pool()  # the sync keeps period results, the report reads the store: in Arrow
    with Progress() as progress:
        synced = run_sync(config, full=True, progress=progress)
    if not synced.ok:
        click.echo(synced.to_text(), err=True)
        raise SystemExit(1)
    agreement = Agreement.load(target / "company_a.toml")
    with open_store(config.store, read_only=True) as store:
        report = build_report(store, agreement)
    page = target / "report.html"
    try:
        page.write_text(report.to_html(), encoding="utf-8")
    except OSError as error:
        raise click.ClickException(
            f"cannot write the demo to {target}: {page.name}: {error.strerror or error}"
        ) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "folder": str(target),
                    "html": str(page),
                    "sync": synced.to_dict(),
                    "report": report.to_dict(),
                },
                indent=2,
            )
        )
        return
    click.echo(synced.to_text())
    click.echo()
    click.echo(report.to_text())
    click.echo(f"The demo is in {target}; the HTML report is {page}")
    click.echo(f"Try: cd {target} && slacore report --format html --output june.html")


_DEMO_JOB = """\
# The demo's sync job: the CRM exports in data/ into slacore.db, judged by Company A's SLA.
store = "slacore.db"
agreement = "company_a.toml"

[[sources]]
name = "crm"
connector = "csv"

[sources.settings]
path = "data"
# The export has a stage the standard ladder lacks: disqualified leads.
stages = ["subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "disqualified"]
"""


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``slacore`` script: run the command and exit with its status.

    Usage errors exit 2, slacore errors 1, both with one line on stderr; a closed stdout or
    stderr (``slacore report | head -1``) ends the command quietly with status 141.
    """
    run(cli, argv)
