"""A real redis-server on a free port that a test can stop, restart on the same port, and stall (SIGSTOP:
the kernel still accepts connections, nothing answers them)."""

import shutil
import signal
import socket
import subprocess
from pathlib import Path

from sandbox.launcher import free_port
from tests.support.waiting import wait_until


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, port: int | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        server = shutil.which("redis-server")
        assert server, "`make test` installs Debian's redis-server"
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        wait_until(f"redis-server to answer on port {self.port}", lambda: _answers(self.port))
        return self

    def adopt(self, process: subprocess.Popen[bytes]) -> "RedisServer":
        """Take over a redis-server someone else started on this port."""
        self.process = process
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a stalled server cannot act on SIGTERM
            self.process.terminate()
            self.process.wait(timeout=10)

    def stall(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(16).startswith(b"+OK")
