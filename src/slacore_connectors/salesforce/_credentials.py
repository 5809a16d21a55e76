"""Salesforce credentials: exactly one complete set, checked, never shown.

Re-exported by :mod:`slacore_connectors.salesforce.client`, where the client that logs in
with them lives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from slacore.errors import ValidationError

__all__ = ["CREDENTIAL_SETS", "Credentials"]

#: The credential sets, each complete on its own: exactly one is given.
CREDENTIAL_SETS: Final[Mapping[str, tuple[str, ...]]] = {
    "session_id": ("session_id",),
    "password": ("username", "password", "security_token"),
    "client_credentials": ("consumer_key", "consumer_secret"),
}
_SHOWN_SETS: Final = (
    "session_id; or username + password + security_token; or consumer_key + consumer_secret"
)


def _text(name: str, value: Any) -> str | None:
    """A credential setting's value as text (a :class:`~slacore.connector.Secret` revealed);
    None when absent or empty. The value is never put into an error."""
    if value is None:
        return None
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        value = reveal()
    if not isinstance(value, str):
        raise ValidationError(
            message=f"setting {name!r}: expected text, got {type(value).__name__}", field=name
        )
    return value if value.strip() else None


@attrs.frozen(kw_only=True, repr=False)
class Credentials:
    """How to log in to Salesforce: exactly one complete set. ``repr`` and ``str`` name the
    set and hide every value (the username too).

    Attributes:
        session_id: A session id (an access token), used as it is; it cannot be renewed.
        username, password, security_token: A user's, for the SOAP login.
        consumer_key, consumer_secret: A connected app's, for the OAuth client-credentials
            flow.

    """

    session_id: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None

    def __attrs_post_init__(self) -> None:
        """Check that exactly one set is given, complete."""
        given = {name for name in _CREDENTIAL_NAMES if getattr(self, name)}
        touched = [kind for kind, names in CREDENTIAL_SETS.items() if given & set(names)]
        if not touched:
            raise ValidationError(
                message=f"no Salesforce credentials: set {_SHOWN_SETS} "
                '(secrets, from the environment: { env = "..." })',
                field="session_id",
            )
        if len(touched) > 1:
            shown = " and ".join(
                " + ".join(n for n in CREDENTIAL_SETS[kind] if n in given) for kind in touched
            )
            raise ValidationError(
                message=f"Salesforce credentials of two kinds given ({shown}): set exactly one "
                f"of {_SHOWN_SETS}",
                field=next(n for n in CREDENTIAL_SETS[touched[1]] if n in given),
            )
        names = CREDENTIAL_SETS[touched[0]]
        missing = [name for name in names if name not in given]
        if missing:
            raise ValidationError(
                message=f"Salesforce credentials {' + '.join(names)}: "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
                field=missing[0],
            )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Credentials:
        """The credentials in a connector's settings (text or
        :class:`~slacore.connector.Secret` values; empty ones count as not given).

        Raises:
            ValidationError: No set, two sets, or an incomplete one; the error names the
                setting missing or in excess, never a value.

        """
        return cls(**{name: _text(name, settings.get(name)) for name in _CREDENTIAL_NAMES})

    @property
    def kind(self) -> str:
        """Which set: ``session_id``, ``password`` or ``client_credentials``."""
        if self.session_id:
            return "session_id"
        return "password" if self.username else "client_credentials"

    @property
    def can_login(self) -> bool:
        """Whether a new session can be had (False for a ``session_id`` alone)."""
        return self.kind != "session_id"

    def secrets(self) -> tuple[str, ...]:
        """Every value given, to hide from any text shown."""
        values = (getattr(self, name) for name in _CREDENTIAL_NAMES)
        return tuple(value for value in values if value)

    def __repr__(self) -> str:
        """The set's kind, no value."""
        return f"Credentials(kind={self.kind!r}, values hidden)"

    __str__ = __repr__


_CREDENTIAL_NAMES: Final = tuple(name for names in CREDENTIAL_SETS.values() for name in names)
