"""The trail lists no app's actions: each app declares its own writes (audit.registry.declare_write, in
the service module that performs them, imported at ready()), and the trail, the log's filter, Django's
admin and undo read them from there."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from audit.forms import AuditFilterForm
from audit.models import AuditEntry
from audit.registry import action_choices, action_label, audit_action, declare_write
from audit.services import audited
from downloads.edits import COUNT, CountRevert, EditRevert
from downloads.services import RestoreDeleted, count_headline
from orders.attachments import OrderAssetsUndo

pytestmark = pytest.mark.django_db


# Stored in the database: a code and its label never change.
STORED = {
    "email_resend": "Resent download e-mail",
    "download_record_create": "Created download record",
    "download_record_update": "Edited download record",
    "download_record_update_revert": "Reverted download record edit",
    "download_record_count": "Changed download count",
    "download_record_delete": "Deleted download record",
    "download_record_count_revert": "Reverted download count",
    "download_record_restore": "Restored deleted record",
    "order_assets_attach": "Attached files to order",
    "order_assets_detach": "Detached files from order",
    "reply_template_edit": "Changed a support reply",
}


def test_every_apps_actions_are_registered_with_their_labels() -> None:
    assert dict(action_choices()) == STORED
    assert action_label("download_record_delete") == "Deleted download record"
    assert action_label("gone_app_action") == "gone_app_action"  # an old row of a removed app: its code


def test_each_write_names_its_undo_where_it_is_declared() -> None:
    declared = {code: audit_action(code) for code in STORED}
    undo = {code: action.undo for code, action in declared.items() if action is not None}
    assert set(undo) == set(STORED)
    assert isinstance(undo["download_record_count"], CountRevert)
    assert isinstance(undo["download_record_update"], EditRevert)
    assert isinstance(undo["download_record_delete"], RestoreDeleted)
    assert isinstance(undo["order_assets_attach"], OrderAssetsUndo)
    assert isinstance(undo["order_assets_detach"], OrderAssetsUndo)
    undoable = {"download_record_count", "download_record_update", "download_record_delete"}
    undoable |= {"order_assets_attach", "order_assets_detach"}
    assert {code for code, handler in undo.items() if handler is None} == set(STORED) - undoable


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
    assert declare_write("email_resend", "Resent download e-mail") == "email_resend"  # the same again
    with pytest.raises(ValueError, match="already registered"):
        declare_write("email_resend", "Something else")
    declare_write(
        "download_record_count", "Changed download count", headline=count_headline, undo=CountRevert()
    )
    with pytest.raises(ValueError, match="already registered"):  # another undo for the same write
        declare_write("download_record_count", "Changed download count", headline=count_headline)


def test_the_log_filter_and_the_admin_offer_what_the_apps_registered(admin_client: Client) -> None:
    offered = AuditFilterForm().fields["action"].choices
    assert list(offered) == [("", "Any action"), *action_choices()]
    AuditEntry.objects.create(actor_name="mia", action=COUNT, outcome="success")
    listing = admin_client.get("/admin/audit/auditentry/").content.decode()
    assert "Changed download count" in listing  # the row names the action by its label
    for code, _label in action_choices():
        assert f"?action={code}" in listing  # the filter offers every registered action
    for code, shown in (("email_resend", "0 audit entries"), ("download_record_count", "1 audit entry")):
        filtered = admin_client.get("/admin/audit/auditentry/", {"action": code}).content.decode()
        assert shown in filtered, code
