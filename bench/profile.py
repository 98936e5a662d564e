"""`python -m bench.profile`: where the dashboard's own time goes on a warm page, in one process.

The dashboard and its upstreams (the sandbox's own code, served in this process as the inner test ring
serves it: tests/support/inprocess.py) run with the test settings on a throwaway database; a Support
person signs in with Django's test client. For each page: the median and p90 of N warm loads (in ms),
its database queries, and a cProfile of 10 more loads (cumulative and own time). No network, no gunicorn,
no Redis: for the figures staff see, run `make bench`; this is for finding what to make faster.

    python -m bench.profile                    # the order page of #1050, the records list, the lists
    python -m bench.profile -n 50 --top 40 --path /orders/ --path "/downloads/?q=1050"
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.test import Client

PAGES = (
    "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/",  # order #1050
    "/downloads/?q=1050",
    "/orders/",
    "/audit/",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="timed warm loads per page (default 30)")
    parser.add_argument("--top", type=int, default=25, help="profile lines shown per page (default 25)")
    parser.add_argument("--path", action="append", help="a page to measure (repeatable; default: four pages)")
    parser.add_argument("--no-profile", action="store_true", help="timings and query counts only")
    parser.add_argument("--sql", action="store_true", help="print each warm load's database queries")
    parser.add_argument(
        "--cold", action="store_true", help="empty the cache before each load (the dashboard's own cold work)"
    )
    parser.add_argument(
        "--first",
        action="store_true",
        help="with --cold: also forget what this process kept of the page (a page it serves the first time)",
    )
    parser.add_argument(
        "--tree", action="store_true", help="a pyinstrument call tree instead of cProfile's tables"
    )
    parser.add_argument(
        "--records", type=int, default=0, help="also measure the page of a new order with N download records"
    )
    parser.add_argument(
        "--cache-calls",
        action="store_true",
        help="list each warm load's shared-cache calls (each one a Redis round trip under gunicorn)",
    )
    parser.add_argument(
        "--entries", type=int, default=0, help="audit entries put in the trail first (count fixes of #1050)"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    logging.disable(logging.INFO)  # one line per upstream read would bury the figures
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import (
        override_settings,
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    from sandbox.launcher import Credentials
    from tests.support.inprocess import start_inprocess, upstream_settings

    setup_test_environment(debug=False)
    databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    stand_in = start_inprocess(
        credentials=Credentials(
            key=settings.SANDBOX_FILEFLARE_KEY,
            token=settings.SANDBOX_DOWNLOADS_TOKEN,
            secret=settings.SANDBOX_DOWNLOADS_SECRET,
        )
    )
    try:
        with override_settings(**upstream_settings(stand_in)):
            cache.clear()
            person = User.objects.create_user("profile-support")  # no password: signed in by the client
            person.groups.add(Group.objects.get_or_create(name="Support")[0])
            client = Client()
            client.force_login(person)
            _entries(person, args.entries)
            paths = list(args.path or PAGES)
            if args.records:
                paths.append(_order_with_records(stand_in, args.records))
            for path in paths:
                _measure(client, path, args)
    finally:
        stand_in.stop()
        teardown_databases(databases, verbosity=0)
        teardown_test_environment()


def _entries(person: Any, count: int) -> None:
    """`count` successful count fixes on order #1050 in the trail, as bench.growth makes them."""
    from audit.models import AuditEntry

    for start in range(0, count, 5000):
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=person,
                actor_name=person.username,
                action="download_record_count",
                order_number=1050 if index % 100 == 0 else 900_000 + index % 5000,
                download_id=f"profile-{index}",
                before={"download_count": 2},
                after={"download_count": 1},
                outcome="success",
            )
            for index in range(start, min(start + 5000, count))
        )


def _order_with_records(sandbox: Any, count: int) -> str:
    """A new order in the sandbox with `count` download records of its own (bench.growth's); its page."""
    from bench.growth import add_records

    order = sandbox.create_order({})
    add_records(sandbox.downloads_url, sandbox.token, order["order_number"], count, workers=1)
    return f"/orders/{order['id']}/"


@contextlib.contextmanager
def _cache_calls() -> Iterator[list[str]]:
    """The shared cache's calls made meanwhile, each as "method (caller)": under gunicorn each is one
    round trip to Redis (a get_many or set_many too), which an in-process profile does not show."""
    from django.core.cache import caches

    backend = caches["default"]
    calls: list[str] = []
    methods = ("get", "get_many", "set", "set_many", "add", "delete", "delete_many", "incr", "touch")
    originals = {name: getattr(backend, name) for name in methods}

    def counted(name: str, original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            frame = sys._getframe(1)
            if frame.f_code.co_filename.endswith("django/core/cache/backends/base.py"):
                return original(*args, **kwargs)  # get_many made of gets: one call of the caller's
            where = f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}"
            calls.append(f"{name} ({where})")
            return original(*args, **kwargs)

        return call

    for name, original in originals.items():
        setattr(backend, name, counted(name, original))
    try:
        yield calls
    finally:
        for name in originals:
            delattr(backend, name)


def _forget_pages() -> None:
    """What this process kept of the pages it served (kept pages, fragments, parsed answers, the keys a
    page read last time): the next load is the page as bench's cold order page is, served the first time.
    The page frame's header stays, as it does for a person who opened other pages before."""
    from downloads import derived
    from fileflare_admin import fragments, kept_pages, readahead
    from fileflare_admin.api import _reads

    kept_pages._pages.clear()
    fragments._near.clear()
    with readahead._later_lock:
        readahead._later.clear()
    with derived._lock:
        derived._kept.clear()
    with _reads._parsed.lock:
        _reads._parsed.pages.clear()


def _measure(client: Client, path: str, args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get = client.get
    if args.cold:
        from django.core.cache import cache

        def get(path: str) -> Any:
            cache.clear()
            if args.first:
                _forget_pages()
            return client.get(path)

    get(path)  # cold: fills the read cache
    get(path)  # warm once: the process learns the page's later cache keys (fileflare_admin.readahead)
    with CaptureQueriesContext(connection) as captured, _cache_calls() as calls:
        status = get(path).status_code
        queries = list(captured.captured_queries)  # copied: the next request empties the log
    times = []
    for _ in range(args.n):
        started = time.perf_counter()
        get(path)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(
        f"{path}: HTTP {status}, warm median {statistics.median(times):.1f} ms, "
        f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms (n={args.n}), {len(queries)} queries, "
        f"{len(calls)} cache calls, load average {os.getloadavg()[0]:.2f}"
    )
    if args.cache_calls:
        for call in calls:
            print(f"  {call}")
    if args.sql:
        for query in queries:
            print(f"  {query['time']}s  {query['sql'][:300]}")
    if args.no_profile:
        return
    if args.tree:
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.0002)
        with sampler:
            for _ in range(20):
                get(path)
        print(sampler.output_text(color=False))
        return
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(10):
        get(path)
    profile.disable()
    shown = io.StringIO()
    stats = pstats.Stats(profile, stream=shown)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print(shown.getvalue())


if __name__ == "__main__":
    main()
