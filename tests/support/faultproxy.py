"""A fault proxy: a threaded loopback HTTP server in front of the sandbox, for what a real server cannot be
made to do on demand — lose its answer *after* it has done the work.

Every request is forwarded to the sandbox as it came (method, path, query, headers, body) and the
sandbox really carries it out. For the next N requests matching a rule, the proxy then spoils the answer
on its way back:

- "drop":    closes the connection without a byte of answer (the client sees a dropped connection);
- "garbage": answers 200 with a body that is not JSON;
- "502":     answers 502 Bad Gateway with an HTML page, as a load balancer would;
- "delay":   waits `delay` seconds before answering (past the client's read timeout), then answers.

And one fault before the work, for comparison: "unsent" answers 502 without forwarding at all (a
gateway that never reached the sandbox), so the change is verifiably not made.

    with FaultProxy(sandbox.url) as proxy:
        proxy.fault("garbage", method="PATCH", path="/downloads/", times=1)
        settings.DOWNLOADS_API_URL = proxy.url + "/easycart"

`forwarded` lists (method, path, status) of what reached the sandbox, spoiled or not; `bodies` the
(method, path, body) each request carried.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal

import requests

Fault = Literal["drop", "garbage", "502", "delay", "unsent"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class Rule:
    kind: Fault
    method: str
    path: re.Pattern[str]
    times: int
    delay: float
    after: str | None  # a method: the rule waits until a request with it has come through

    def matches(self, method: str, path: str) -> bool:
        if self.after is not None:
            return False
        return self.times > 0 and method == self.method and bool(self.path.search(path))


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._session = requests.Session()
        self.rules: list[Rule] = []
        self.forwarded: list[tuple[str, str, int]] = []
        self.bodies: list[tuple[str, str, bytes]] = []
        self.spoiled: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fault-proxy", daemon=True
        )  # polls for shutdown every 20 ms (the default half second was most of a short test's time)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._session.close()

    def fault(
        self,
        kind: Fault,
        *,
        method: str,
        path: str = "",
        times: int = 1,
        delay: float = 0.0,
        after: str | None = None,
    ) -> None:
        """Spoil the answer of the next `times` requests with this method whose path matches `path`
        (with `after`, only once a request with that method has come through: "the read-back")."""
        with self._lock:
            waits_for = after.upper() if after else None
            self.rules.append(Rule(kind, method.upper(), re.compile(path), times, delay, waits_for))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take(self, method: str, path: str) -> Rule | None:
        with self._lock:
            chosen = next((rule for rule in self.rules if rule.matches(method, path)), None)
            for rule in self.rules:
                if rule.after == method:
                    rule.after = None  # what it waited for came through: it applies from the next request
            if chosen is not None:
                chosen.times -= 1
            return chosen

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> requests.Response:
        """The request sent on as it came, with requests: over a socket to a sandbox process, or to the
        in-process sandbox (tests/support/inprocess.py), whichever `upstream` is."""
        return self._session.request(
            method,
            f"{self.upstream}{path}",
            data=body or None,
            headers=headers,
            timeout=60,
            allow_redirects=False,
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                rule = proxy._take(self.command, self.path)
                if rule is not None and rule.kind == "unsent":
                    with proxy._lock:
                        proxy.spoiled.append((rule.kind, self.command, self.path))
                    self._answer(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                    return
                answer = proxy._forward(self.command, self.path, headers, body)
                content = answer.content
                with proxy._lock:
                    proxy.forwarded.append((self.command, self.path, answer.status_code))
                    proxy.bodies.append((self.command, self.path, body))
                    if rule is not None:
                        proxy.spoiled.append((rule.kind, self.command, self.path))
                kind = answer.headers.get("Content-Type") or ""
                if rule is None:
                    self._answer(answer.status_code, content, kind, answer.headers.items())
                elif rule.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif rule.kind == "garbage":
                    self._answer(200, b'{"download_id": "half an answ', "application/json")
                elif rule.kind == "502":
                    self._answer(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                else:
                    time.sleep(rule.delay)
                    with contextlib.suppress(OSError):  # the client gave up waiting, as intended
                        self._answer(answer.status_code, content, kind)

            def _answer(
                self, status: int, content: bytes, content_type: str, extra: Iterable[tuple[str, str]] = ()
            ) -> None:
                self.send_response(status)
                for name, value in extra:
                    if name.lower() not in HOP_BY_HOP | {"content-length", "content-type", "date", "server"}:
                        self.send_header(name, value)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler
