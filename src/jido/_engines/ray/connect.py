"""Connecting a runtime to a Ray cluster: fail fast and say why."""

from __future__ import annotations

import re
import socket

import ray

from jido._core.errors import ConfigError

__all__ = ["check_reachable", "check_same_cluster", "connect_error", "first_line"]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_line(exc: BaseException) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _host_port(address: str) -> tuple[str, int] | None:
    """``host:port`` of an explicit address (``ray://`` included); None for ``auto`` etc."""
    bare = address.removeprefix("ray://")
    host, sep, port = bare.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def check_reachable(address: str | None, timeout: float) -> None:
    """Fail fast on an unreachable address (Ray itself retries for minutes)."""
    where = _host_port(address) if address else None
    if where is None:
        return
    try:
        socket.create_connection(where, timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(
            f"could not connect to Ray at {address}: nothing answers at {where[0]}:{where[1]} "
            f"({type(exc).__name__}: {exc}); start the cluster with `ray start --head` or "
            "check the address",
            details={"engine": "ray", "address": address},
        ) from exc


def check_same_cluster(address: str | None) -> None:
    """Ray connects a process to one cluster: refuse an explicit address of another one."""
    wanted = _host_port(address) if address else None
    if wanted is None or (address or "").startswith("ray://"):
        return
    try:
        current = str(ray.get_runtime_context().gcs_address)
    except Exception:  # client mode, or an old Ray: nothing to compare with
        return
    have = _host_port(current)
    if have is None or (have[1] == wanted[1] and _same_host(have[0], wanted[0])):
        return
    raise ConfigError(
        f"this process is already connected to the Ray cluster at {current}, not {address}: "
        "a process can join one Ray cluster (call ray.shutdown() first)",
        details={"engine": "ray", "address": address, "connected": current},
    )


def _same_host(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        ip_a, ip_b = socket.gethostbyname(a), socket.gethostbyname(b)
    except OSError:
        return False
    return ip_a == ip_b or (_is_local(ip_a) and _is_local(ip_b))


def _is_local(ip: str) -> bool:
    """True for an address of this machine (one a socket can be bound to)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((ip, 0))
    except OSError:
        return False
    return True


def connect_error(address: str | None, exc: Exception) -> ConfigError:
    where = address or "a new local cluster"
    hint = ""
    if "auth" in f"{type(exc).__name__} {exc}".lower():
        hint = (
            " (Ray token authentication: copy ~/.ray/auth_token from the head node, or set "
            "RAY_AUTH_TOKEN with RAY_AUTH_MODE=token)"
        )
    return ConfigError(
        f"could not connect to Ray at {where}: {type(exc).__name__}: {first_line(exc)}{hint}",
        details={"engine": "ray", "address": address},
    )
