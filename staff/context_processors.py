from collections.abc import Callable

from django.http import HttpRequest

from staff.roles import Permissions, permissions_for


def permissions(request: HttpRequest) -> dict[str, Callable[[], Permissions]]:
    """`may` in every template: what the signed-in person may do (staff.roles.Permissions).

    Lazy, so pages that never ask (sign-in, errors) cost no group lookup."""
    return {"may": lambda: permissions_for(request.user)}
