"""Resending the download e-mail: once per form, audited before Fileflare is asked, and never called
failed when only the answer was lost. Against the in-process sandbox; a fault proxy in front of
it loses answers after the e-mail went out, which the sandbox itself cannot be made to do."""

import itertools
import re
import threading
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEntry
from tests.conftest import Sandbox
from tests.support.dblock import write_locked  # noqa: F401  (a fixture)
from tests.support.faultproxy import FaultProxy

# Orders only this module resends to (test_views uses 3101…, test_order_page_sections 3201…).
_orders = itertools.count(3401)


def _form(client: Client, order_id: str) -> dict[str, str]:
    """The order page's resend form, as the browser would send it."""
    page = client.get(f"/orders/{order_id}/").content.decode()
    form = re.search(r'<form[^>]*id="resend-form"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    token = re.search(r'name="submission" value="([^"]+)"', form.group(1))
    assert token is not None
    return {"submission": token.group(1), "reason": "ticket 31"}


def _sent_to(sandbox: Sandbox, number: int) -> int:
    return sum(1 for mail in sandbox.outbox() if mail["order_number"] == number)


@pytest.mark.django_db
def test_the_same_form_sent_twice_sends_one_email_and_says_when(
    support_client: Client, sandbox: Sandbox
) -> None:
    order = sandbox.customer(next(_orders))
    form = _form(support_client, order["id"])
    first = support_client.post(f"/orders/{order['id']}/resend/", form, follow=True)
    assert "Download e-mail sent to the customer of order" in first.content.decode()
    again = support_client.post(f"/orders/{order['id']}/resend/", form)
    page = again.content.decode()
    assert again.status_code == 200
    assert re.search(r"This form was already sent at \d\d:\d\d:\d\d \w+, so it was not sent again\.", page)
    assert 'value="ticket 31"' in page  # the reason is kept, with a new form to send deliberately again
    assert _sent_to(sandbox, order["order_number"]) == 1
    entries = AuditEntry.objects.filter(action="email_resend", order_number=order["order_number"])
    assert [entry.outcome for entry in entries] == ["success"]
    assert f"#entry-{entries[0].pk}" in first.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.engine
def test_a_double_click_sends_one_email(support_client: Client, sandbox: Sandbox) -> None:
    order = sandbox.customer(next(_orders))
    form = _form(support_client, order["id"])
    go = threading.Barrier(2)
    statuses: list[int] = []

    def click() -> None:
        go.wait()
        statuses.append(support_client.post(f"/orders/{order['id']}/resend/", form).status_code)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert sorted(statuses) == [200, 302]
    assert _sent_to(sandbox, order["order_number"]) == 1


@pytest.mark.django_db
def test_an_answer_lost_after_sending_is_read_back_not_called_failed(
    support_client: Client, sandbox: Sandbox, fileflare_proxy: FaultProxy, settings: Any
) -> None:
    settings.UPSTREAM_RETRIES = 0
    order = sandbox.customer(next(_orders))
    form = _form(support_client, order["id"])
    fileflare_proxy.fault("502", method="PUT", path=f"/v1/orders/{order['id']}", times=1)
    response = support_client.post(f"/orders/{order['id']}/resend/", form, follow=True)
    page = response.content.decode()
    assert "Download e-mail sent to the customer of order" in page and "(checked at the API)" in page
    assert _sent_to(sandbox, order["order_number"]) == 1
    entry = AuditEntry.objects.get(action="email_resend", order_number=order["order_number"])
    assert entry.succeeded and entry.verified == "checked at the API" and entry.after["email_sent_at"]


@pytest.mark.django_db
def test_a_gateway_that_never_reached_fileflare_says_not_sent_and_the_form_may_be_sent_again(
    support_client: Client, sandbox: Sandbox, fileflare_proxy: FaultProxy, settings: Any
) -> None:
    settings.UPSTREAM_RETRIES = 0
    order = sandbox.customer(next(_orders))
    form = _form(support_client, order["id"])
    fileflare_proxy.fault("unsent", method="PUT", path=f"/v1/orders/{order['id']}", times=1)
    page = support_client.post(f"/orders/{order['id']}/resend/", form).content.decode()
    assert "The e-mail was not sent (checked at the API): you can send it again." in page
    assert _sent_to(sandbox, order["order_number"]) == 0
    failed = AuditEntry.objects.get(action="email_resend", order_number=order["order_number"])
    assert failed.outcome == "failed" and failed.verified == "checked at the API"
    # The same form again: its token was given back, since nothing was sent.
    retried = support_client.post(f"/orders/{order['id']}/resend/", form, follow=True)
    assert "Download e-mail sent" in retried.content.decode()
    assert _sent_to(sandbox, order["order_number"]) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["502", "drop", "delay"])
def test_a_lost_answer_is_never_followed_by_a_second_email(
    support_client: Client, sandbox: Sandbox, fileflare_proxy: FaultProxy, settings: Any, fault: str
) -> None:
    settings.UPSTREAM_RETRIES = 2  # the API layer retries what is safe to repeat; an e-mail is not
    settings.UPSTREAM_READ_TIMEOUT = 0.5  # the "delay" fault answers after 1 s: a timeout
    settings.UPSTREAM_BACKOFF = 0.01
    order = sandbox.customer(next(_orders))
    form = _form(support_client, order["id"])
    fileflare_proxy.fault(fault, method="PUT", path=f"/v1/orders/{order['id']}", times=1, delay=1.0)
    page = support_client.post(f"/orders/{order['id']}/resend/", form, follow=True).content.decode()
    assert _sent_to(sandbox, order["order_number"]) == 1
    assert len([sent for sent in fileflare_proxy.forwarded if sent[0] == "PUT"]) == 1
    assert "Download e-mail sent to the customer of order" in page and "(checked at the API)" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.engine
def test_with_the_audit_trail_unwritable_nothing_is_sent_and_the_reason_is_kept(
    support_client: Client, sandbox: Sandbox, fileflare_proxy: FaultProxy, request: pytest.FixtureRequest
) -> None:
    order = sandbox.customer(next(_orders))
    form = {**_form(support_client, order["id"]), "reason": "keep this reason"}
    request.getfixturevalue("write_locked")
    response = support_client.post(f"/orders/{order['id']}/resend/", form)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The audit trail cannot be written right now, so nothing was sent." in page
    assert 'value="keep this reason"' in page
    assert not [sent for sent in fileflare_proxy.forwarded if sent[0] == "PUT"]
    assert _sent_to(sandbox, order["order_number"]) == 0


@pytest.mark.django_db
def test_when_the_order_cannot_be_read_back_the_outcome_is_unknown_and_the_form_stays_spent(
    support_client: Client, sandbox: Sandbox, fileflare_proxy: FaultProxy, settings: Any
) -> None:
    settings.UPSTREAM_RETRIES = 0
    order = sandbox.customer(next(_orders))
    form = _form(support_client, order["id"])
    fileflare_proxy.fault("drop", method="PUT", path=f"/v1/orders/{order['id']}", times=1)
    fileflare_proxy.fault("502", method="GET", path=f"/v1/orders/{order['id']}", times=1, after="PUT")
    page = support_client.post(f"/orders/{order['id']}/resend/", form).content.decode()
    assert "we cannot tell whether the e-mail was sent" in page
    entry = AuditEntry.objects.get(action="email_resend", order_number=order["order_number"])
    assert entry.outcome == "unknown"
    again = support_client.post(f"/orders/{order['id']}/resend/", form).content.decode()
    assert "This form was already sent at" in again  # not sent twice by pressing the same button again
    assert _sent_to(sandbox, order["order_number"]) == 1
