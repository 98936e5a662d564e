"""A step's lease: kept by a live worker however long the step waits, lost soon after its worker dies."""

from __future__ import annotations

import time

import pytest
from django.conf import LazySettings
from django.utils import timezone

from background import chain
from orders_index.models import OrderSync


def _queued(token: str, run_after: object) -> None:
    """An enqueue that queues nothing: these tests look only at the row."""


@pytest.mark.django_db(transaction=True)  # the renewing thread has a connection of its own
def test_a_step_that_waits_longer_than_its_lease_keeps_it_and_loses_it_once_it_stops(
    settings: LazySettings,
) -> None:
    settings.BACKGROUND_LEASE_SECONDS = 1
    OrderSync.objects.create(shop="lease-test", step_token="step-1", step_due_at=timezone.now())
    rows = OrderSync.objects.filter(shop="lease-test")
    assert chain.chain_claim(rows, "step-1")

    with chain.lease_kept(rows, "step-1"):
        time.sleep(2.5)  # an upstream call that takes more than twice the lease
        # Nobody may take the step over: its worker is alive and renewing.
        assert rows.get().lease_until > timezone.now()
        assert not chain.chain_start(rows, enqueue=_queued)

    time.sleep(1.5)  # the step stopped renewing (as a killed worker would): the lease lapses
    assert rows.get().lease_until < timezone.now()
    assert chain.chain_start(rows, enqueue=_queued)


@pytest.mark.django_db(transaction=True)
def test_a_superseded_step_stops_renewing(settings: LazySettings) -> None:
    settings.BACKGROUND_LEASE_SECONDS = 1
    OrderSync.objects.create(shop="lease-test-2", step_token="old", step_due_at=timezone.now())
    rows = OrderSync.objects.filter(shop="lease-test-2")
    assert chain.chain_claim(rows, "old")
    with chain.lease_kept(rows, "old"):
        rows.update(step_token="new", lease_until=None)  # another worker's step took over
        time.sleep(1.0)
        assert rows.get().lease_until is None  # the old step's thread renewed nothing
