"""The API base URL rule, shared by the config and the client: https, or http to loopback only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(hostname: str) -> bool:
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """https only; http only for loopback. Returns the URL without a trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValueError(f"must be a URL like https://platform.kore.ai, got {url!r}")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials")
    if parts.query or parts.fragment or parts.path not in {"", "/"}:
        raise ValueError("must be scheme://host[:port] only, without a path")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"must use https (http is allowed only for loopback hosts), got {url!r}")
    return url.rstrip("/")
