"""Calling a platform's LTI Advantage services: OAuth2 tokens, AGS scores, NRPS rosters.

Access tokens come from the client-credentials grant with a JWT client assertion signed
by our key (RFC 7523), as the LTI security framework requires.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from sqlalchemy.orm import Session

from service.lti import keys
from service.models import LtiPlatform

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
ROSTER_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
TIMEOUT = 15
#: Roster pages followed at most (a course of 100 000 at the usual page size).
MAX_ROSTER_PAGES = 200


class PlatformUnavailable(Exception):
    """The platform could not be reached or answered 5xx/429: worth retrying later."""


class PlatformRefused(Exception):
    """The platform answered with a 4xx that retrying will not fix."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise PlatformUnavailable(f"{what}: HTTP {response.status_code} {response.text[:200]}")
    if response.status_code >= 400:
        raise PlatformRefused(
            f"{what}: HTTP {response.status_code} {response.text[:500]}", response.status_code
        )


def access_token(session: Session, platform: LtiPlatform, scopes: list[str]) -> str:
    assertion = keys.sign(
        session,
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.token_audience or platform.auth_token_url,
        },
    )
    try:
        response = requests.post(
            platform.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(scopes),
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise PlatformUnavailable(f"token endpoint {platform.auth_token_url}: {error}") from None
    _check(response, "token request")
    try:
        return str(response.json()["access_token"])
    except (ValueError, KeyError):
        raise PlatformRefused("the token endpoint answered without an access_token") from None


def scores_url(lineitem_url: str) -> str:
    """The line item's /scores endpoint (the path gets /scores; any query string stays)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def post_score(
    session: Session, platform: LtiPlatform, lineitem_url: str, score: dict[str, Any]
) -> int:
    """POST one AGS score; returns the HTTP status. Raises on failure (see the classes)."""
    token = access_token(session, platform, [SCORE_SCOPE])
    try:
        response = requests.post(
            scores_url(lineitem_url),
            json=score,
            headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE},
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise PlatformUnavailable(f"score endpoint {lineitem_url}: {error}") from None
    _check(response, "score post")
    return response.status_code


_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def roster(session: Session, platform: LtiPlatform, memberships_url: str) -> list[dict[str, Any]]:
    """Every member of the context, following the Link rel="next" pages."""
    token = access_token(session, platform, [ROSTER_SCOPE])
    members: list[dict[str, Any]] = []
    url: str | None = memberships_url
    for _ in range(MAX_ROSTER_PAGES):
        if url is None:
            break
        try:
            response = requests.get(
                url,
                headers={"Authorization": f"Bearer {token}", "Accept": ROSTER_TYPE},
                timeout=TIMEOUT,
            )
        except requests.RequestException as error:
            raise PlatformUnavailable(f"roster {url}: {error}") from None
        _check(response, "roster request")
        members += list(response.json().get("members", []))
        match = _NEXT.search(response.headers.get("Link", ""))
        url = match.group(1) if match else None
    return members
