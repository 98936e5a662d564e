"""Faults on the production-like stack, one guarantee at a time: Redis down is a header and a status line,
not an outage, and recovery needs nobody; hanging upstreams never starve the pages that need none; a known
down upstream answers at once; sign-in cannot be guessed around with forged X-Forwarded-For."""

import math
import re
import subprocess
import threading
import time

import requests

from bench.stack import BENCH_PASSWORD, PROJECT, PYTHON
from fileflare_admin.sharedcache import LOG_EVERY_SECONDS
from tests.faults.stack import DEADLINE, Answer, FaultStack, Visitor
from tests.support.waiting import wait_until

DEGRADED = "X-Dashboard-Degraded"


def visitor_copy(visitor: Visitor) -> Visitor:
    """Another browser signed in as the same person (for requests sent at the same time)."""
    session = requests.Session()
    session.cookies.update(visitor.session.cookies)
    return Visitor(visitor.base, session)


def test_without_redis_every_page_answers_says_so_and_recovers_by_itself(calm: FaultStack) -> None:
    visitor = calm.visitor()
    calm.redis.stop()
    down_since = time.monotonic()
    for path in ("/orders/", "/downloads/", "/audit/", "/status/"):
        answer = visitor.get(path)
        assert answer.status == 200 and answer.headers.get(DEGRADED) == "shared cache unavailable", path
    assert visitor.get("/status/").says("degraded: shared cache unavailable")
    health = visitor.get("/healthz")
    assert health.status == 200 and health.text == "ok"  # the balancer keeps sending traffic
    for _ in range(20):
        visitor.get("/audit/")
    log = (calm.folder / "dashboard.log").read_text(errors="replace")
    # Once per worker (and per minute, LOG_EVERY_SECONDS: a busy machine may take longer than one for
    # these 26 pages), not per request.
    minutes = math.ceil((time.monotonic() - down_since) / LOG_EVERY_SECONDS)
    assert 1 <= log.count("Shared cache unavailable") <= calm.workers * minutes

    calm.restart_redis()
    wait_until(  # both workers, every thread
        "the workers to go back to Redis",
        lambda: not any(DEGRADED in visitor.get("/audit/").headers for _ in range(8)),
        every=0.5,
    )
    assert not visitor.get("/status/").says("degraded")


def test_ten_hanging_pages_do_not_slow_the_audit_log(calm: FaultStack) -> None:
    visitor = calm.visitor()
    calm.upstream(hang_rate=1.0)
    answers: list[Answer] = []

    def hang(number: int) -> None:
        answers.append(visitor_copy(visitor).get(f"/downloads/?q=hang-{number}"))

    assert calm.sandbox is not None
    sent_before = calm.sandbox.stats().get("downloads", 0)
    threads = [threading.Thread(target=hang, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()

    def sent_or_answered() -> int:
        assert calm.sandbox is not None
        return calm.sandbox.stats().get("downloads", 0) - sent_before + len(answers)

    # All ten are in the workers: each is waiting on the downloads API, or was told at once that too
    # many pages of its worker wait already (UPSTREAM_WAITING_PAGES).
    wait_until("ten pages waiting on the downloads API or answered", lambda: sent_or_answered() >= 10)
    audit = visitor.get("/audit/")
    for thread in threads:
        thread.join()
    assert audit.status == 200 and audit.seconds < 1.0, audit.seconds
    assert len(answers) == 10
    for answer in answers:
        assert answer.status == 200 and answer.seconds < DEADLINE + 1.0, (answer.status, answer.seconds)
        assert answer.says("The downloads API") and "Try again in a moment." in answer.words


def test_a_known_down_upstream_answers_at_once_and_the_status_page_says_until_when(calm: FaultStack) -> None:
    visitor = calm.visitor()
    calm.upstream(hang_rate=1.0)
    first = [  # UPSTREAM_BREAKER_FAILURES timeouts, at the same time
        threading.Thread(target=visitor_copy(visitor).get, args=(f"/downloads/?q=down-{number}",))
        for number in range(3)
    ]
    for thread in first:
        thread.start()
    for thread in first:
        thread.join()
    answer = visitor.get("/downloads/?q=down-after")
    assert answer.status == 200 and answer.seconds < 0.5, answer.seconds
    assert answer.says("is not waiting on it for now. Try again in")
    assert visitor.get("/status/").says("Not waited on")


def test_forged_forwarded_for_does_not_buy_more_guesses(calm: FaultStack) -> None:
    # The stack trusts X-Forwarded-For from a proxy at 10.9.9.9 only; these tries come straight in.
    def sign_in(password: str, forwarded_for: str) -> int:
        session = requests.Session()  # a fresh browser: its own CSRF cookie and token
        page = session.get(f"{calm.dashboard_url}/accounts/login/", timeout=10).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token
        return session.post(
            f"{calm.dashboard_url}/accounts/login/",
            data={"username": "bench", "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"X-Forwarded-For": forwarded_for, "Referer": f"{calm.dashboard_url}/accounts/login/"},
            timeout=10,
            allow_redirects=False,
        ).status_code

    try:
        statuses = [sign_in("wrong", f"203.0.113.{attempt}") for attempt in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        assert sign_in(BENCH_PASSWORD, "203.0.113.99") == 429
    finally:
        subprocess.run(
            [PYTHON, "manage.py", "axes_reset_username", "bench"],
            cwd=PROJECT,
            env=calm.dashboard_env(),
            check=True,
            capture_output=True,
        )
    assert sign_in(BENCH_PASSWORD, "203.0.113.99") == 302  # an administrator unlocked it
