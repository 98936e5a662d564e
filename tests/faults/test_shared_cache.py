"""The shared cache on a real redis-server that is stopped and stalled: every operation still answers
(from the worker's own memory), a stalled Redis costs one short timeout and then nothing, one error line
a minute, automatic recovery; the lock and the budget keep their promises across processes and without
Redis."""

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import LazySettings
from django.core.cache import cache

from fileflare_admin import sharedcache
from fileflare_admin.api import budget
from fileflare_admin.api import cache as read_cache
from fileflare_admin.api.cache import LockBusy, shared_lock
from tests.faults.conftest import RETRY, recovered
from tests.faults.redis_server import RedisServer

PROJECT = Path(__file__).resolve().parents[2]


def unavailable_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [record.getMessage() for record in caplog.records]
    return [line for line in lines if "Shared cache unavailable" in line]


def test_with_redis_stopped_every_operation_answers_and_one_line_is_logged(
    redis_cache: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    cache.set("before", 1)
    redis_cache.stop()
    caplog.set_level(logging.WARNING, logger="fileflare_admin.cache")
    started = time.monotonic()
    cache.set("during", 2)
    assert cache.get("during") == 2 and cache.add("lock", 1) and not cache.add("lock", 1)
    assert cache.incr("lock") == 2 and cache.get_many(["during", "lock"]) == {"during": 2, "lock": 2}
    assert sharedcache.degraded()
    for _ in range(10):  # over several retry periods: each retry fails again, still one line
        time.sleep(RETRY / 2)
        cache.get("during")
    assert time.monotonic() - started < 3
    assert len(unavailable_lines(caplog)) == 1
    assert "ConnectionError" in unavailable_lines(caplog)[0]

    redis_cache.start()  # same port, empty
    recovered(redis_cache)
    assert not sharedcache.degraded()
    assert "Shared cache answers again" in caplog.text
    cache.set("after", 3)
    assert cache.get("after") == 3 and cache.get("during") is None  # Redis again, not the fallback


def test_a_stalled_redis_costs_one_short_timeout_then_nothing(redis_cache: RedisServer) -> None:
    cache.set("kept", "in redis")
    redis_cache.stall()
    started = time.monotonic()
    assert cache.get("kept") is None  # the fallback knows nothing of it
    first = time.monotonic() - started
    started = time.monotonic()
    for number in range(200):
        cache.set(f"n{number}", number)
    assert 0.15 <= first < 1 and time.monotonic() - started < 0.2
    redis_cache.resume()
    recovered(redis_cache)
    assert cache.get("kept") == "in redis"


def test_the_cache_keeps_its_redis_client_instead_of_making_one_per_call(
    redis_cache: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django's Redis cache makes a redis.Redis for every call (issue 28: 3% of a warm page); ours keeps it,
    through an outage and back."""
    made = []
    real = redis.Redis.__init__

    def counted(client: redis.Redis, *args: Any, **kwargs: Any) -> None:
        made.append(client)
        real(client, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    for number in range(20):
        cache.set(f"kept{number}", number)
        assert cache.get(f"kept{number}") == number
    assert cache.get_many(["kept0", "kept19"]) == {"kept0": 0, "kept19": 19}
    redis_cache.stop()
    assert cache.get("kept0") is None and sharedcache.degraded()
    redis_cache.start()
    recovered(redis_cache)
    cache.set("after", 1)
    assert cache.get("after") == 1 and len(made) <= 1


def test_the_shared_lock_holds_across_processes_on_redis(redis_cache: RedisServer) -> None:
    holder = _python(
        redis_cache,
        "from fileflare_admin.api.cache import shared_lock\n"
        "import sys\n"
        "with shared_lock('record:xyz', timeout=120):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.readline()\n"  # held until the test lets go
        "print('released', flush=True)\n",
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == b"held"
    with pytest.raises(LockBusy), shared_lock("record:xyz", timeout=10, wait=0.3):
        pass

    def let_go() -> None:
        assert holder.stdin is not None
        holder.stdin.write(b"go\n")
        holder.stdin.flush()

    threading.Timer(0.3, let_go).start()  # while this process waits for the lock
    with shared_lock("record:xyz", timeout=10, wait=120):
        assert holder.stdout.readline().strip() == b"released"
    assert holder.wait(timeout=60) == 0


def test_without_redis_the_lock_still_holds_within_the_worker(redis_cache: RedisServer) -> None:
    redis_cache.stop()
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with shared_lock("record:abc", timeout=10):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    with pytest.raises(LockBusy), shared_lock("record:abc", timeout=10, wait=0.2):
        pass
    release.set()
    thread.join()
    with shared_lock("record:abc", timeout=10, wait=1):
        assert sharedcache.degraded()


def test_without_redis_two_workers_together_stay_within_the_budget(redis_cache: RedisServer) -> None:
    redis_cache.stop()
    script = (
        "from fileflare_admin.api import budget\n"
        "print(sum(budget.acquire('two-workers', 55) is None for _ in range(60)))\n"
    )
    workers = [_python(redis_cache, script, stdout=subprocess.PIPE, workers=2) for _ in range(2)]
    admitted = [int(worker.communicate(timeout=60)[0].strip()) for worker in workers]
    assert admitted == [27, 27]  # 55 ÷ 2 each: 54 in all, within the 55


def test_a_worker_counts_its_last_minute_when_redis_goes_and_hands_it_over_when_it_comes_back(
    redis_cache: RedisServer, settings: LazySettings
) -> None:
    settings.UPSTREAM_WORKER_COUNT = 2
    assert all(budget.acquire("handover", 55) is None for _ in range(20))
    redis_cache.stall()
    # Its share is 27, of which it sent 20 this minute already.
    assert sum(budget.acquire("handover", 55) is None for _ in range(30)) == 7
    redis_cache.resume()
    recovered(redis_cache)
    assert budget.usage("handover")[0] == 27  # the 20 Redis counted, and the 7 sent meanwhile


def _python(
    server: RedisServer, script: str, *, stdout: int | None = None, stdin: int | None = None, workers: int = 4
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings"),
        "CACHE_URL": server.url,
        "UPSTREAM_WORKER_COUNT": str(workers),
    }
    code = f"import django\ndjango.setup()\n{script}"
    return subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT, env=env, stdout=stdout, stdin=stdin)


def test_a_fetch_takes_its_lock_with_its_calls_reads_and_keeps_its_answer_in_one_round_trip_each(
    redis_cache: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    execute = redis.client.Pipeline.execute

    def counted(self: redis.client.Pipeline, raise_on_error: bool = True) -> Any:
        sent.append(len(self.command_stack))
        return execute(self, raise_on_error)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)
    cache.set("ffa:breaker:test", 3)
    handed: list[Any] = []

    def fetch(known: Any) -> dict[str, int]:
        handed.append(known)
        return {"id": len(handed)}

    key = read_cache.read_key("fileflare", "shop", "/orders/1", None)
    reads = ["ffa:breaker:test", "ffa:budget:test"]  # what the call reads before it goes out
    fetched = read_cache.cached(key, fetch, on_event=lambda event: None, read_with_lock=reads)
    # The lock taken with the call's reads, one pipeline; the answer's SET and the lock's DEL, one more.
    assert fetched.value == {"id": 1} and sent == [2, 2] and handed == [{"ffa:breaker:test": 3}]
    assert cache.get(key)["payload"] == {"id": 1} and cache.get(f"{key}:lock") is None
    redis_cache.stop()  # the worker's own memory: the same promise; the call reads its own then
    other = read_cache.read_key("fileflare", "shop", "/orders/2", None)
    fetched = read_cache.cached(other, fetch, on_event=lambda event: None, read_with_lock=reads)
    assert fetched.value == {"id": 2}
    assert cache.get(other)["payload"] == {"id": 2} and cache.get(f"{other}:lock") is None
    assert handed[1] is None


def test_a_budget_counts_a_request_in_one_round_trip_its_first_bucket_too(
    redis_cache: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django's incr asks whether the key exists, then counts (a missing bucket: fails, is made, asked and
    counted again): two round trips before every upstream call, four for a bucket's first (issue 28)."""
    commands = _redis_commands(monkeypatch)
    key = budget._key("one-trip", int(time.time() // budget.BUCKET_SECONDS))
    assert cache.get(key) is None
    commands.clear()
    assert budget._count(cache, key) == 1 and budget._count(cache, key, 2) == 3  # made by its first count
    assert commands == ["pipeline: SET INCRBY", "pipeline: SET INCRBY"]
    ttl = redis.Redis(port=redis_cache.port).ttl(cache.make_key(key))
    assert cache.get(key) == 3 and 0 < ttl <= budget.BUCKET_TIMEOUT
    assert budget.acquire("one-trip-limited", 2) is None and budget.acquire("one-trip-limited", 2) is None
    assert budget.acquire("one-trip-limited", 2) is not None  # the third is refused and given back
    assert budget.usage("one-trip-limited")[0] == 2
    redis_cache.stop()  # the worker's own memory counts the same way
    assert budget._count(cache, key) == 1 and budget._count(cache, key) == 2 and sharedcache.degraded()


def test_a_write_moves_a_generation_on_in_one_round_trip_and_it_never_expires(
    redis_cache: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write bumps the generation of what it changed (the read cache's, fileflare_admin.kept's): one
    pipeline, not an add and Django's incr (three round trips); the generation has no expiry."""
    commands = _redis_commands(monkeypatch)
    before = read_cache.generation("one-trip-family")
    commands.clear()
    read_cache.invalidate("one-trip-family")
    assert commands == ["pipeline: SET INCRBY"]
    assert read_cache.generation("one-trip-family") == (before[0] + 1,)
    ttl = redis.Redis(port=redis_cache.port).ttl(cache.make_key("ffa:gen:one-trip-family"))
    assert ttl == -1  # no expiry


def _redis_commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each command sent to Redis from now on, by name; a pipeline's as one entry, "pipeline: SET INCRBY"."""
    commands: list[str] = []
    execute = redis.Redis.execute_command
    pipelined = redis.client.Pipeline.execute

    def counted(client: redis.Redis, *args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return execute(client, *args, **options)

    def counted_pipeline(self: redis.client.Pipeline, raise_on_error: bool = True) -> Any:
        commands.append("pipeline: " + " ".join(str(args[0]) for args, _ in self.command_stack))
        return pipelined(self, raise_on_error)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counted_pipeline)
    return commands
