"""The trail lists no app's actions: each app registers its own (audit.registry) at ready(), and the
trail, the log's filter and Django's admin read them from there."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from audit.forms import AuditFilterForm
from audit.models import AuditEntry
from audit.registry import action_choices, action_label, register_action
from audit.services import audited
from downloads.audit_actions import Action as RecordAction
from orders.audit_actions import Action as OrderAction

pytestmark = pytest.mark.django_db


def test_every_apps_actions_are_registered_with_their_labels() -> None:
    registered = dict(action_choices())
    for action in (*RecordAction, *OrderAction):
        assert registered[action.value] == action.label
    assert action_label("download_record_delete") == "Deleted download record"
    assert action_label("gone_app_action") == "gone_app_action"  # an old row of a removed app: its code


def test_an_action_no_app_registered_is_never_written(merchant_user: User) -> None:
    with pytest.raises(ValidationError):
        AuditEntry.objects.create(actor_name="x", action="made_up", outcome="success")
    with pytest.raises(ValidationError), audited(actor=merchant_user, action="made_up"):
        pytest.fail("the write must not start without its entry")
    assert not AuditEntry.objects.filter(action="made_up").exists()
    field = AuditEntry._meta.get_field("action")
    with pytest.raises(ValidationError):
        field.clean("made_up", None)
    assert field.clean("email_resend", None) == "email_resend"


def test_an_action_registered_twice_differently_is_refused() -> None:
    register_action("email_resend", "Resent download e-mail")  # the same again: fine
    with pytest.raises(ValueError, match="already registered"):
        register_action("email_resend", "Something else")


def test_the_log_filter_and_the_admin_offer_what_the_apps_registered(admin_client: Client) -> None:
    offered = AuditFilterForm().fields["action"].choices
    assert list(offered) == [("", "Any action"), *action_choices()]
    AuditEntry.objects.create(actor_name="mia", action=RecordAction.DOWNLOAD_RECORD_COUNT, outcome="success")
    listing = admin_client.get("/admin/audit/auditentry/").content.decode()
    assert "Changed download count" in listing  # the row names the action by its label
    for code, _label in action_choices():
        assert f"?action={code}" in listing  # the filter offers every registered action
    for code, shown in (("email_resend", "0 audit entries"), ("download_record_count", "1 audit entry")):
        filtered = admin_client.get("/admin/audit/auditentry/", {"action": code}).content.decode()
        assert shown in filtered, code
