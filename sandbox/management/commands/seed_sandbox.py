from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.management.commands._sandbox_process import ensure_sandbox_settings, migrate_quietly


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # the sandbox must start whatever state the dashboard is in
    help = "Fill the sandbox with its demo shop, made deterministically from a seed (replaces what is there)."

    def add_arguments(self, parser: CommandParser) -> None:
        from sandbox.seed import DEFAULT_ORDERS, DEFAULT_SEED

        parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when demo data is there")

    def handle(self, *args: Any, orders: int, seed: int, if_empty: bool, **options: Any) -> None:
        ensure_sandbox_settings()
        migrate_quietly()
        from sandbox import seed as demo
        from sandbox.models import Order

        if if_empty and Order.objects.exists():
            return
        made = demo.seed(orders=orders, seed=seed)
        self.stdout.write(
            f"Sandbox demo shop: {made['orders']} orders, {made['records']} download records, "
            f"{made['products']} products, {made['assets']} assets ({made['seconds']} s)."
        )
