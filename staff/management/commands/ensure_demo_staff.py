"""Create one demo staff account per role when the dashboard has no accounts yet.

Passwords are generated here and printed once; they are never written to the repository or a file.
"""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from staff.roles import MERCHANT, SUPPORT

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
            if group_name is None:
                user = User.objects.create_superuser(username=username, password=password, email="")
            else:
                user = User.objects.create_user(username=username, password=password, is_staff=False)
                user.groups.add(Group.objects.get(name=group_name))
            lines.append(f"  {username:<9} {password:<18} {description}")
        self.stdout.write(
            self.style.SUCCESS("Demo staff accounts created. Passwords are shown only this once:")
        )
        self.stdout.write("\n".join(lines))
        self.stdout.write("Lost them? `.venv/bin/python manage.py changepassword support` sets a new one.\n")
