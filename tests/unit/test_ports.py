"""The launcher's port check agrees with the servers it starts: they bind with SO_REUSEADDR, so a port
whose last connections linger in TIME-WAIT (for a minute after `make run` is stopped) is free to them."""

import socket
import time

from sandbox.launcher import _port_free


def _listening(port: int = 0) -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as socketserver.TCPServer does
    server.bind(("127.0.0.1", port))
    server.listen()
    return server


def _in_time_wait(port: int) -> bool:
    """A socket of this local port is in TIME-WAIT (state 06 in /proc/net/tcp)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(row[1].endswith(f":{port:04X}") and row[3] == "06" for row in rows)


def test_a_port_left_in_time_wait_is_free_and_a_listening_one_is_not() -> None:
    server = _listening()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    assert not _port_free("127.0.0.1", port)  # a server listens there
    accepted.close()  # the server's side closes first, as a stopped server does: it lingers in TIME-WAIT
    time.sleep(0.05)
    client.close()
    server.close()
    time.sleep(0.05)
    assert _in_time_wait(port)
    assert _port_free("127.0.0.1", port)
    again = _listening(port)  # and the server can indeed listen there again at once
    again.close()
