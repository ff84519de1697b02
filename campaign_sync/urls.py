"""The API base URL rule, shared by the config, ``init --host`` and the client.

``scheme://host[:port]``, checked fully so a bad value is a config error at ``validate`` rather
than a failure on the first request: https (http only to loopback), no whitespace or control
characters anywhere, a valid host (a DNS name of letters, digits and hyphens, or an IP address),
a port in 1..65535, no credentials, path, query or fragment.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_CLEAN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no space


def is_loopback(hostname: str) -> bool:
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _valid_host(host: str) -> bool:
    if host.startswith("["):
        try:
            return host.endswith("]") and ipaddress.IPv6Address(host[1:-1]) is not None
        except ValueError:
            return False
    name = host.rstrip(".") if host.endswith(".") and len(host) > 1 else host
    if len(name) > 253:
        return False
    labels = name.split(".")
    if all(label.isdigit() for label in labels):  # looks like IPv4: must be one
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return False
        return True
    return all(_LABEL.match(label) for label in labels)


def _host_and_port(netloc: str) -> tuple[str, str | None]:
    """``host[:port]`` split at the port's colon (an IPv6 literal keeps its brackets)."""
    if netloc.endswith("]") or ":" not in netloc:
        return netloc, None
    host, _, port = netloc.rpartition(":")
    return host, port


def check_base_url(url: str) -> str:
    """https only; http only for loopback. Returns the URL without a trailing slash."""
    if not _CLEAN.fullmatch(url):
        raise ValueError(
            f"must be a URL like https://platform.kore.ai without spaces or control characters, got {url!r}"
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"must be a URL like https://platform.kore.ai, got {url!r}") from None
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValueError(f"must be a URL like https://platform.kore.ai, got {url!r}")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("must not contain credentials")
    if parts.query or parts.fragment or parts.path not in {"", "/"} or "?" in url or "#" in url:
        raise ValueError("must be scheme://host[:port] only, without a path")
    host, port = _host_and_port(parts.netloc)
    if not _valid_host(host):
        raise ValueError(f"{host!r} is not a valid host name or IP address")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"port must be a number from 1 to 65535, got {port!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"must use https (http is allowed only for loopback hosts), got {url!r}")
    return url.rstrip("/")
