"""Create one demo staff account per role when the dashboard has no accounts yet.

Passwords are generated here and printed once; they are never written to the repository or a file. The
merchant asks for the daily digest, due a few minutes from now (once the demo's snapshots have seen some
downloads), so the demo's outbox shows one; each account has an address at example.com (never delivered:
the demo writes its e-mail to files).
"""

import secrets
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from staff.models import StaffPreferences
from staff.roles import MERCHANT, SUPPORT

DIGEST_AFTER = timedelta(minutes=5)  # the demo merchant's first digest: this long after the accounts are made

DEMO_ACCOUNTS = (
    ("admin", None, "Administrator: everything, and Django's admin"),
    ("merchant", MERCHANT, "Merchant: everything, including creating and deleting records"),
    ("support", SUPPORT, "Support: look up orders, resend e-mails, small count fixes"),
)


class Command(BaseCommand):
    help = "Create demo staff accounts (one per role) when no account exists yet."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.exists():
            return
        lines = []
        for username, group_name, description in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            email = f"{username}@example.com"
            if group_name is None:
                user = User.objects.create_superuser(username=username, password=password, email=email)
            else:
                user = User.objects.create_user(
                    username=username, password=password, is_staff=False, email=email
                )
                user.groups.add(Group.objects.get(name=group_name))
            if group_name == MERCHANT:
                soon = timezone.localtime(timezone.now() + DIGEST_AFTER, ZoneInfo(settings.SHOP_TIME_ZONE))
                digest_at = soon.time().replace(second=0, microsecond=0)  # in the shop's zone, the account's
                StaffPreferences.objects.create(user=user, digest_at=digest_at)
                description += f" (daily digest at {digest_at:%H:%M})"
            lines.append(f"  {username:<9} {password:<18} {description}")
        self.stdout.write(
            self.style.SUCCESS("Demo staff accounts created. Passwords are shown only this once:")
        )
        self.stdout.write("\n".join(lines))
        self.stdout.write("Lost them? `.venv/bin/python manage.py changepassword support` sets a new one.\n")
