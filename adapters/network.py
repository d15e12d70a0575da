"""Connection failures in words an operator can act on: which host, and whether DNS or the network failed.

A failed DNS lookup or a refused connection is a problem on this machine's side (offline, a proxy, a typo
in a URL), not arXiv being down, and the messages say so. ``connection_failure`` words a failed request
with its host; ``describe`` gives the short reason a reconnect loop logs on each try.
"""

from __future__ import annotations

import re
import socket

import aiohttp

_DNS_TEXT = re.compile(r"name or service not known|nodename nor servname|name resolution|failed to resolve", re.I)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it was raised from (``__cause__``, ``__context__``, requests' ``args[0]``)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
        todo += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
        todo.append(getattr(current, "reason", None))  # urllib3's MaxRetryError / NewConnectionError
    return seen


def connection_failure(host: str, exc: BaseException) -> str:
    """"the host X could not be resolved (…)" or "could not connect to X (…)", with the system's reason."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, socket.gaierror) or _DNS_TEXT.search(str(item)):
            reason = item.strerror if isinstance(item, socket.gaierror) and item.strerror else _last_line(item)
            return f"the host {host} could not be resolved (DNS lookup failed: {reason})"
    errors = [item for item in chain if isinstance(item, OSError) and item.strerror]
    reason = str(errors[0].strerror) if errors else _last_line(exc)
    return f"could not connect to {host} (network unreachable or connection refused: {reason})"


def _last_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[-1][:200]


NETWORK_ADVICE = "Check this machine's network connection, DNS and any proxy, then try again"


def describe(exc: BaseException) -> str:
    """One line for a network failure, without the chain of wrapped exceptions."""
    cause = exc
    while isinstance(cause, aiohttp.ClientError):  # aiohttp wraps the OSError that says what happened
        inner = getattr(cause, "os_error", None) or cause.__cause__
        if inner is None:
            break
        cause = inner
    if isinstance(cause, socket.gaierror) or isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"DNS lookup failed: {getattr(cause, 'strerror', None) or cause}"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, TimeoutError) and not str(cause):
        return "timed out"
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text if len(text) <= 200 else text[:197] + "…"
