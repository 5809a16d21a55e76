from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import trustme
from hypothesis import HealthCheck, settings
from tests.fakes.hubspot import FakeHubSpot, Portal, generate_portal
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.salesforce_org import Org, generate_org

# CI machines are small and shared: no deadlines, fewer examples unless asked for more.
settings.register_profile(
    "default", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@contextmanager
def _stopped_after(vendor: str) -> Iterator[list[Any]]:
    """A list to put started fakes in; they stop after, and none may have failed."""
    started: list[Any] = []
    yield started
    for fake in started:
        fake.stop()
    bugs = [error for fake in started for error in fake.errors]
    assert not bugs, f"the fake {vendor} failed: {bugs}"


@pytest.fixture
def make_fake_hubspot() -> Iterator[Callable[..., FakeHubSpot]]:
    """Start fake HubSpots on 127.0.0.1 over generated portals; all stop after the test.

    Call it with :func:`tests.fakes.hubspot.generate_portal`'s arguments (a ``portal=`` of
    your own instead, if you have one).
    """
    with _stopped_after("HubSpot") as started:

        def make(portal: Portal | None = None, **portal_arguments: Any) -> FakeHubSpot:
            fake = FakeHubSpot(portal or generate_portal(**portal_arguments))
            started.append(fake.start())
            return fake

        yield make


@pytest.fixture
def fake_hubspot(make_fake_hubspot: Callable[..., FakeHubSpot]) -> FakeHubSpot:
    """A fake HubSpot over a small generated portal (300 contacts, seed 13)."""
    return make_fake_hubspot(seed=13, contacts=300)


@pytest.fixture(scope="session")
def salesforce_ca() -> Any:
    """One ``trustme`` CA for every fake Salesforce of the run (each issues its own cert)."""
    return trustme.CA()


@pytest.fixture
def make_fake_salesforce(salesforce_ca: Any) -> Iterator[Callable[..., FakeSalesforce]]:
    """Start fake Salesforces on 127.0.0.1 (TLS) over generated orgs; all stop after the test.

    Call it with :func:`tests.fakes.salesforce_org.generate_org`'s arguments (an ``org=`` of
    your own instead, if you have one). Trust a fake through ``fake.ca_path`` or
    ``fake.trusting_session()``.
    """
    with _stopped_after("Salesforce") as started:

        def make(org: Org | None = None, **org_arguments: Any) -> FakeSalesforce:
            fake = FakeSalesforce(org or generate_org(**org_arguments), ca=salesforce_ca)
            started.append(fake.start())
            return fake

        yield make


@pytest.fixture
def fake_salesforce(make_fake_salesforce: Callable[..., FakeSalesforce]) -> FakeSalesforce:
    """A fake Salesforce over a small generated org (300 leads, seed 14)."""
    return make_fake_salesforce(seed=14, leads=300)
