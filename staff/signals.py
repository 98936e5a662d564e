"""When an account's groups change, the sessions that remember its role groups forget them
(staff.middleware.forget_role_groups): the next page shows the new role."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from staff.middleware import forget_role_groups


@receiver(m2m_changed, sender=User.groups.through)
def _groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:  # user.groups.add(...): this account
        forget_role_groups({instance.pk})
    elif pk_set is not None:  # group.user_set.add(...): these accounts
        forget_role_groups(set(pk_set))
    else:  # group.user_set.clear(): whoever was in it
        forget_role_groups(None)


@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
def _group_renamed_or_deleted(sender: Any, **kwargs: Any) -> None:
    """A renamed or deleted group changes the role of everyone in it (a deletion removes its members
    without m2m_changed)."""
    forget_role_groups(None)
