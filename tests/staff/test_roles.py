"""staff.roles: who may do what. Support sees everything, resends e-mails, attaches files and moves a count
by at most the step; Merchant and superusers may do everything (bulk fixes and the shop's reply templates
included); an account without a role may do nothing."""

from typing import Any, get_args

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied
from django.test import Client

from staff import roles
from tests.conftest import ROLES_MIGRATION
from tests.staff.urls import REFUSAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_role_user(db: None) -> User:
    return User.objects.create_user("nora-norole", password="irrelevant-password-123")


def _user(request: pytest.FixtureRequest, who: str) -> Any:
    if who == "anonymous":
        return AnonymousUser()
    return request.getfixturevalue(f"{who}_user")


def test_the_data_migration_makes_the_role_groups_once() -> None:
    # Run on its own here: every database test finds the groups already (tests/conftest.py), so this is
    # where the migration's own work is checked. tests/deploy migrates a fresh database and uses them too.
    Group.objects.filter(name__in=("Support", "Merchant")).delete()
    ROLES_MIGRATION.create_roles(django_apps, None)
    ROLES_MIGRATION.create_roles(django_apps, None)
    names = list(Group.objects.filter(name__in=("Support", "Merchant")).values_list("name", flat=True))
    assert sorted(names) == ["Merchant", "Support"]


@pytest.mark.parametrize(
    ("who", "role", "label"),
    [
        ("admin", "admin", "Administrator"),
        ("merchant", "merchant", "Merchant"),
        ("support", "support", "Support"),
        ("no_role", None, "No role"),
        ("anonymous", None, "No role"),
    ],
)
def test_each_account_has_its_role(request: pytest.FixtureRequest, who: str, role: str, label: str) -> None:
    user = _user(request, who)
    assert roles.role_of(user) == role
    assert roles.role_label(user) == label


def test_merchant_outranks_support_when_an_account_is_in_both(support_user: User) -> None:
    support_user.groups.add(Group.objects.get_or_create(name="Merchant")[0])
    assert roles.role_of(support_user) == "merchant"


def test_a_deactivated_account_has_no_role(merchant_user: User) -> None:
    merchant_user.is_active = False
    assert roles.role_of(merchant_user) is None


EVERY_ACTION = {
    "use_dashboard",
    "resend",
    "attach",
    "edit",
    "create",
    "delete",
    "see_amazon_key",
    "detach",
    "run_bulk_fixes",
    "edit_reply_templates",
    "view_reports",
    "view_staff_activity",
}
ALLOWED = {
    "admin": EVERY_ACTION,
    "merchant": EVERY_ACTION,
    "support": {"use_dashboard", "resend", "attach", "view_reports"},
    "no_role": set(),
    "anonymous": set(),
}


def test_the_table_names_every_action() -> None:
    assert set(roles.RULES) == set(get_args(roles.Action)) == EVERY_ACTION


@pytest.mark.parametrize("action", sorted(EVERY_ACTION))
@pytest.mark.parametrize("who", sorted(ALLOWED))
def test_each_role_may_do_exactly_its_share(request: pytest.FixtureRequest, who: str, action: Any) -> None:
    """The check a service calls, the answer code asks for and the page's `may` all agree."""
    user = _user(request, who)
    may = action in ALLOWED[who]
    assert roles.allows(user, action) is may
    assert roles.permissions_for(user)[action] is may
    if may:
        roles.require(user, action)
    else:
        with pytest.raises(roles.NotAllowed) as refused:
            roles.require(user, action)
        assert str(refused.value).endswith(".") and len(str(refused.value)) > 20


@pytest.mark.parametrize("who", ["admin", "merchant"])
def test_merchant_and_superuser_move_a_count_by_any_amount(request: pytest.FixtureRequest, who: str) -> None:
    user = _user(request, who)
    roles.require_count_change_allowed(user, old=0, new=10_000)
    roles.require_count_change_allowed(user, old=10_000, new=0)
    assert roles.max_count_step(user) is None


def test_support_moves_a_count_by_at_most_the_step_either_way(support_user: User, settings: Any) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    for old, new in ((3, 8), (8, 3), (0, 5), (5, 0), (4, 4)):
        roles.require_count_change_allowed(support_user, old=old, new=new)
    for old, new in ((3, 9), (9, 3), (0, 100)):
        with pytest.raises(roles.NotAllowed) as refused:
            roles.require_count_change_allowed(support_user, old=old, new=new)
        assert "at most 5" in str(refused.value) and "Ask a Merchant" in str(refused.value)


def test_the_step_is_read_from_the_settings_at_call_time(support_user: User, settings: Any) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 2
    with pytest.raises(roles.NotAllowed, match="at most 2"):
        roles.require_count_change_allowed(support_user, old=0, new=3)
    settings.SUPPORT_MAX_COUNT_STEP = 50
    roles.require_count_change_allowed(support_user, old=0, new=50)


def test_an_account_without_a_role_changes_no_count(no_role_user: User) -> None:
    with pytest.raises(roles.NotAllowed, match="no role"):
        roles.require_count_change_allowed(no_role_user, old=1, new=2)


def test_a_refusal_is_a_permission_denied_whose_text_is_the_sentence() -> None:
    refusal = roles.NotAllowed("Only a Merchant can delete download records.")
    assert isinstance(refusal, PermissionDenied)
    assert str(refusal) == refusal.user_message == "Only a Merchant can delete download records."


@pytest.mark.urls("tests.staff.urls")
def test_a_refusal_raised_in_any_view_answers_403_with_the_sentence_on_our_page(
    support_client: Client,
) -> None:
    response = support_client.get("/staff-test/refuse/")
    assert response.status_code == 403
    html = response.content.decode()
    assert REFUSAL in html and "<h1>Not allowed</h1>" in html and 'class="site-header"' in html
    htmx = support_client.post("/staff-test/refuse/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403 and REFUSAL in htmx.content.decode()


@pytest.mark.parametrize(
    ("who", "label"), [("support", "Support"), ("merchant", "Merchant"), ("admin", "Administrator")]
)
def test_the_header_shows_the_role_next_to_the_name(
    request: pytest.FixtureRequest, who: str, label: str
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    user = request.getfixturevalue(f"{who}_user")
    html = client.get("/audit/").content.decode()
    assert f'{user.get_username()} <span class="badge">{label}</span>' in html
