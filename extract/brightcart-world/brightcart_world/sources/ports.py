"""Who holds a TCP port: answers, free-to-bind checks and naming the process that holds it."""

from __future__ import annotations

import ipaddress
import socket

import psutil

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts a TCP connection at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could bind host:port now (nothing listens or is bound there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return not answers(host, port, timeout=0.5)


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel considers free right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def holder_pid(port: int) -> int | None:
    """The pid of the process listening on (or bound to) a local TCP port, when visible."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    listening = [c for c in connections if c.laddr and c.laddr.port == port and c.pid]
    listening.sort(key=lambda c: c.status != psutil.CONN_LISTEN)
    return listening[0].pid if listening else None


def describe_process(pid: int | None, width: int = 80) -> str:
    """`pid 1234 python -m moto.server ...`, or a hint when the holder is not visible."""
    if pid is None:
        return "pid unknown: run `ss -ltnp` as root to see it"
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline()) or psutil.Process(pid).name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        cmdline = "?"
    if len(cmdline) > width:
        cmdline = cmdline[: width - 3] + "..."
    return f"pid {pid} {cmdline}"


def port_in_use_message(label: str, port: int, extra: str = "") -> str:
    """The error for a port taken by something that is not ours, naming the process."""
    who = describe_process(holder_pid(port))
    message = f"{label} port {port} is already in use by another process ({who})"
    if extra:
        message += f"; {extra}"
    return message
