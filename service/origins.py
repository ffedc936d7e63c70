"""Web origins (scheme://host[:port]) from URLs: one parser for CSP sources and LMS checks.

The Content-Security-Policy (form-action, frame-ancestors) and the LTI checks (a Deep
Linking return URL must be on a registered platform origin) all need the same answer to
"which origin is this URL, if it is a plain http(s) one?". A URL that is not (``javascript:``,
a host with characters that would break a CSP header, a zoned IPv6 address) has none.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_HOSTNAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL (lower-case host), else None.

    The port is kept only when it is not the scheme's default, so ``https://lms.edu:443/x``
    and ``https://lms.edu/y`` have the same origin, as browsers see it.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 literal, written in brackets in an origin
        if "%" in host:  # a zone id has no place in an origin or a CSP source
            return None
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    elif not _HOSTNAME.fullmatch(host):
        return None
    shown_port = port is not None and port != _DEFAULT_PORTS[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if shown_port else "")
