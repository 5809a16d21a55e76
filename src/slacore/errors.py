"""The errors slacore raises.

Every error derives from :class:`SlacoreError`, so ``except slacore.SlacoreError`` catches all of
them, and each also subclasses the fitting builtin (``ValueError``, ``LookupError``) so code
that does not know slacore still handles it sensibly. Errors are frozen attrs classes that
carry their data: the key path or field, the file and line, the record id. The CLI turns them
into one-line messages. Every core error lives here; the connectors' store adds its own
(``slacore_connectors.store.StoreError``).
"""

from __future__ import annotations

import attrs

__all__ = [
    "AgreementError",
    "ConfigError",
    "MissingColumnsError",
    "PlanError",
    "PluginError",
    "SlacoreError",
    "UnknownKeyError",
    "ValidationError",
]


@attrs.frozen(auto_exc=True, kw_only=True)
class SlacoreError(Exception):
    """Base class of every error slacore raises.

    Attributes:
        message: What went wrong, in one sentence.

    """

    message: str

    def __str__(self) -> str:
        return self.message


def _locate(file: str | None, line: int | None, record_id: str | None, field: str | None) -> str:
    parts: list[str] = []
    if file is not None:
        parts.append(f"{file}:{line}" if line is not None else file)
    elif line is not None:
        parts.append(f"line {line}")
    if record_id is not None:
        parts.append(f"record {record_id}")
    if field is not None:
        parts.append(field)
    return ": ".join(parts)


@attrs.frozen(auto_exc=True, kw_only=True)
class ValidationError(SlacoreError, ValueError):
    """A value is not acceptable: wrong type, out of range, naive time, bad format.

    ``str(error)`` puts the location first, so one line tells where and what:
    ``leads.csv:12: record L-7: created_at: expected a timezone-aware time, got '2026-01-05'``.

    Attributes:
        message: What is wrong with the value.
        field: The field or key path (``sales.response.within``), if known.
        value: The offending value, if any.
        file: The file the value came from, if any.
        line: The line in that file, if known.
        record_id: The id of the record the value belongs to, if known.

    """

    field: str | None = None
    value: object = None
    file: str | None = None
    line: int | None = None
    record_id: str | None = None

    def __str__(self) -> str:
        where = _locate(self.file, self.line, self.record_id, self.field)
        return f"{where}: {self.message}" if where else self.message

    def at(
        self,
        *,
        field: str | None = None,
        file: str | None = None,
        line: int | None = None,
        record_id: str | None = None,
    ) -> ValidationError:
        """Return a copy located more precisely; given parts replace missing ones.

        A ``field`` given here is the parent path: ``error.at(field="deal")`` on an error
        for ``amount`` gives ``deal.amount``.
        """
        if field is not None and self.field is not None:
            field = f"{field}.{self.field}"
        return attrs.evolve(
            self,
            field=field if field is not None else self.field,
            file=file if file is not None else self.file,
            line=line if line is not None else self.line,
            record_id=record_id if record_id is not None else self.record_id,
        )


@attrs.frozen(auto_exc=True, kw_only=True)
class ConfigError(ValidationError):
    """A configuration (a sync job file, a connector's settings) with several problems: every
    problem found, not the first.

    A :class:`ValidationError`, so code that catches one catches this too. ``str(error)`` is
    the summary line followed by one line per problem (``FILE:LINE: key.path: message``).

    Attributes:
        errors: One :class:`ValidationError` per problem, in file order, each with its key
            path in ``field`` and, for files, ``file`` and ``line``.

    """

    errors: tuple[ValidationError, ...] = ()

    def __str__(self) -> str:
        return "\n".join([ValidationError.__str__(self), *(str(e) for e in self.errors)])


@attrs.frozen(auto_exc=True, kw_only=True)
class UnknownKeyError(SlacoreError, KeyError):
    """A name was looked up that does not exist (a stage key, a lead-value segment).

    A ``KeyError`` (and so a ``LookupError``), so mappings such as
    :class:`~slacore.planning.lead_values.LeadValueTable` behave like dicts: ``get`` and ``in``
    work.

    Attributes:
        key: The name that was asked for.
        known: The names that do exist, for the message and for suggestions.

    """

    key: str
    known: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.known:
            return self.message
        return f"{self.message} (known: {', '.join(self.known)})"


@attrs.frozen(auto_exc=True, kw_only=True)
class PlanError(SlacoreError, ValueError):
    """A plan cannot be computed from the inputs given (for example, no stages at all)."""


@attrs.frozen(auto_exc=True, kw_only=True)
class AgreementError(SlacoreError, ValueError):
    """An agreement file or mapping is not valid. Carries every problem found, not the first.

    ``str(error)`` is the summary line followed by one line per problem.

    Attributes:
        message: The summary, e.g. ``"company_a.toml: 3 problems in the agreement"``.
        errors: One :class:`~slacore.errors.ValidationError` per problem, in file order, each
            with ``field`` (the key path), and for files ``file`` and ``line``.
        source: The file, if the agreement came from one.

    """

    errors: tuple[ValidationError, ...] = ()
    source: str | None = None

    def __str__(self) -> str:
        return "\n".join([self.message, *(str(error) for error in self.errors)])


@attrs.frozen(auto_exc=True, kw_only=True)
class PluginError(SlacoreError, RuntimeError):
    """A plugin could not be loaded, broke the hook contract, or clashed with another.

    Attributes:
        plugins: The plugins (or packages) involved, for messages and tests.

    """

    plugins: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class MissingColumnsError(ValidationError):
    """A file lacks a column a stream needs: raised before any row is read.

    Attributes:
        missing: The vendor columns looked for and not found.
        columns: The columns the file has.

    """

    missing: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
