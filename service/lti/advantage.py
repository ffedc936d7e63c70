"""Calling a platform's LTI Advantage services: OAuth2 tokens, AGS scores and line items,
NRPS rosters.

Access tokens come from the client-credentials grant with a JWT client assertion signed
by our key (RFC 7523), as the LTI security framework requires. A token is reused until
shortly before it expires: an LMS that rate-limits its token endpoint (Canvas does) would
otherwise refuse a class's worth of scores posted in one minute.

Every answer is checked against the shape the spec gives it before anything uses it. A
platform that answers 200 with an HTML error page, or JSON of another shape, raises
``MalformedAnswer`` with a message an admin can act on, never a traceback.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import requests
from sqlalchemy.orm import Session

from service.lti import keys
from service.models import LtiPlatform
from service.origins import origin_of

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
ROSTER_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
TIMEOUT = 15
#: Roster pages followed at most (a course of 100 000 at the usual page size).
MAX_ROSTER_PAGES = 200
#: Line-item pages followed at most when looking for a link's line item.
MAX_LINEITEM_PAGES = 50
#: A cached token is dropped this long before the platform says it expires (at most a
#: tenth of its lifetime), so a request never leaves with a token about to lapse.
TOKEN_MARGIN_SECONDS = 60.0
#: How long a token is kept when the platform's answer has no ``expires_in``.
TOKEN_DEFAULT_LIFETIME = 300.0


class PlatformUnavailable(Exception):
    """The platform could not be reached or answered 5xx/429: worth retrying later."""


class PlatformRefused(Exception):
    """The platform answered with a 4xx that retrying will not fix."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(PlatformRefused):
    """The platform answered 2xx with something that is not what the spec says it sends."""


class ScopeNotGranted(PlatformRefused):
    """The launch did not grant the scope a call needs, so it is not made at all."""


# ------------------------------------------------------------------------------ scopes

#: What each call needs: any one of these scopes, granted in the link's launch
#: (the AGS claim's ``scope`` list, kept in ``LtiResourceLink.ags_scopes``).
POST_SCORE = "post a score"
READ_LINEITEMS = "read line items"
CREATE_LINEITEM = "create a line item"
_NEEDS: dict[str, tuple[str, ...]] = {
    POST_SCORE: (SCORE_SCOPE,),
    READ_LINEITEMS: (LINEITEM_SCOPE, LINEITEM_READ_SCOPE),
    CREATE_LINEITEM: (LINEITEM_SCOPE,),
}


def allows(granted: Collection[str] | None, action: str) -> bool:
    return any(scope in (granted or ()) for scope in _NEEDS[action])


def require(granted: Collection[str] | None, action: str) -> list[str]:
    """The granted scopes that allow ``action`` (what the token is asked for), else raise."""
    usable = [scope for scope in _NEEDS[action] if scope in (granted or ())]
    if not usable:
        shown = ", ".join(s.rsplit("/", 1)[-1] for s in granted or ()) or "none"
        needed = " or ".join(s.rsplit("/", 1)[-1] for s in _NEEDS[action])
        raise ScopeNotGranted(
            f"the LMS did not grant the AGS scope to {action} ({needed}) in this link's "
            f"launches (granted: {shown}); the LMS admin enables it in the tool's settings"
        )
    return usable


# ------------------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class _Token:
    value: str
    good_until: float  # time.monotonic()


_TokenKey = tuple[str, str, str, str, frozenset[str]]
_tokens: dict[_TokenKey, _Token] = {}
_fetching: dict[_TokenKey, threading.Lock] = {}
_tokens_lock = threading.Lock()


def _token_key(session: Session, platform: LtiPlatform, scopes: Collection[str]) -> _TokenKey:
    # By the token endpoint and client, not the row id: a re-registered platform whose
    # URLs changed must not get the old endpoint's tokens. And by our signing key: after
    # `mixgrade lti rotate-key` (a leaked key, say) the grants its assertions got are
    # no longer used, and the next call asks with the new key.
    audience = platform.token_audience or platform.auth_token_url
    kid = keys.signing_key(session).kid
    return (platform.auth_token_url, platform.client_id, audience, kid, frozenset(scopes))


def forget_tokens() -> None:
    """Drop every cached token (tests start each simulated LMS unknown)."""
    with _tokens_lock:
        _tokens.clear()


def _cached_token(key: _TokenKey, grant: Callable[[], tuple[str, float]]) -> tuple[str, bool]:
    """The token under ``key`` and whether it came from the cache (so a 401 may retry).

    ``grant`` asks the platform for a new one: (token, lifetime in seconds).
    """
    with _tokens_lock:
        found = _tokens.get(key)
        if found is not None and found.good_until > time.monotonic():
            return found.value, True
        fetching = _fetching.setdefault(key, threading.Lock())
    with fetching:  # one grant per key at a time: the others wait and reuse its token
        with _tokens_lock:
            found = _tokens.get(key)
            if found is not None and found.good_until > time.monotonic():
                return found.value, True
        value, lifetime = grant()
        margin = min(TOKEN_MARGIN_SECONDS, lifetime / 10)
        with _tokens_lock:
            _tokens[key] = _Token(value, time.monotonic() + lifetime - margin)
        return value, False


def _drop_token(key: _TokenKey, value: str) -> None:
    with _tokens_lock:
        if key in _tokens and _tokens[key].value == value:
            del _tokens[key]


def _grant(session: Session, platform: LtiPlatform, scopes: Collection[str]) -> tuple[str, float]:
    """A new token from the platform's token endpoint: (token, lifetime in seconds)."""
    assertion = keys.sign(
        session,
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.token_audience or platform.auth_token_url,
        },
    )
    what = f"the token endpoint {platform.auth_token_url}"
    try:
        response = requests.post(
            platform.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(sorted(scopes)),
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise PlatformUnavailable(f"{what}: {error}") from None
    _check(response, what)
    body = _json(response, what)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise MalformedAnswer(f"{what} answered without an access_token")
    lifetime = body.get("expires_in", TOKEN_DEFAULT_LIFETIME)
    if isinstance(lifetime, str) and lifetime.isdigit():
        lifetime = int(lifetime)  # some platforms quote it
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime < 0:
        raise MalformedAnswer(f"{what} answered with expires_in {lifetime!r}, not seconds")
    return token, float(lifetime)


def access_token(session: Session, platform: LtiPlatform, scopes: Collection[str]) -> str:
    """A bearer token for ``scopes``: the cached one while it lasts, else a new grant."""
    grant = functools.partial(_grant, session, platform, scopes)
    return _cached_token(_token_key(session, platform, scopes), grant)[0]


def _authorized(
    session: Session,
    platform: LtiPlatform,
    scopes: Collection[str],
    what: str,
    method: str,
    url: str,
    **kwargs: Any,
) -> requests.Response:
    """One service request with a bearer token for ``scopes``, checked (see ``_check``).

    A 401 on a cached token means the platform dropped it early (a restart, a revoked
    grant): the token is forgotten and the request made once more with a new one.
    """
    key = _token_key(session, platform, scopes)
    grant = functools.partial(_grant, session, platform, scopes)
    token, cached = _cached_token(key, grant)
    response = _request(method, url, token, what, **kwargs)
    if response.status_code == 401 and cached:
        _drop_token(key, token)
        token, _ = _cached_token(key, grant)
        response = _request(method, url, token, what, **kwargs)
    _check(response, what)
    return response


def _request(method: str, url: str, token: str, what: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    try:
        return requests.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise PlatformUnavailable(f"{what}: {error}") from None


# ------------------------------------------------------------------------------ answers


def _snippet(text: str, limit: int = 200) -> str:
    """A platform's answer body as one short line (error pages are multi-line HTML)."""
    return " ".join(text.split())[:limit]


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise PlatformUnavailable(
            f"{what}: HTTP {response.status_code} {_snippet(response.text)}".strip()
        )
    if response.status_code >= 400:
        raise PlatformRefused(
            f"{what}: HTTP {response.status_code} {_snippet(response.text, 500)}".strip(),
            response.status_code,
        )


def _json(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise MalformedAnswer(
            f"{what} answered HTTP {response.status_code} with {kind}, not JSON: "
            f"{_snippet(response.text, 120)!r}",
            response.status_code,
        ) from None


_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def _pages(
    session: Session,
    platform: LtiPlatform,
    scopes: Collection[str],
    what: str,
    first: str,
    accept: str,
    limit: int,
) -> Iterator[Any]:
    """Each page's JSON, following Link rel="next" on the first URL's origin only.

    Our bearer token goes with every page, so a next link to another host (or a loop, or
    more pages than ``limit``) is a malformed answer, not something to follow.
    """
    origin, seen, url = origin_of(first), set(), first
    for number in range(1, limit + 1):
        seen.add(url)
        response = _authorized(
            session, platform, scopes, what, "GET", url, headers={"Accept": accept}
        )
        yield _json(response, f"{what} (page {number})")
        match = _NEXT.search(response.headers.get("Link", ""))
        if match is None:
            return
        url = urljoin(url, match.group(1).strip())  # RFC 8288 allows a relative reference
        if origin_of(url) is None or origin_of(url) != origin:
            raise MalformedAnswer(
                f"{what} (page {number}) links its next page to {_snippet(url, 120)!r}, "
                f"off the service's origin {origin}; our token is not sent there"
            )
        if url in seen:
            raise MalformedAnswer(f"{what} (page {number}) links back to a page already read")
    raise MalformedAnswer(f"{what} has more than {limit} pages; not reading further")


# ------------------------------------------------------------------------------ AGS


def scores_url(lineitem_url: str) -> str:
    """The line item's /scores endpoint (the path gets /scores; any query string stays)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def post_score(
    session: Session,
    platform: LtiPlatform,
    lineitem_url: str,
    score: dict[str, Any],
    granted: Collection[str] | None,
) -> int:
    """POST one AGS score; returns the HTTP status. Raises on failure (see the classes)."""
    scopes = require(granted, POST_SCORE)
    response = _authorized(
        session,
        platform,
        scopes,
        f"score post to {lineitem_url}",
        "POST",
        scores_url(lineitem_url),
        json=score,
        headers={"Content-Type": SCORE_TYPE},
    )
    return response.status_code


def find_lineitem(
    session: Session,
    platform: LtiPlatform,
    lineitems_url: str,
    granted: Collection[str] | None,
    *,
    resource_link_id: str,
    resource_id: str,
) -> str | None:
    """The URL of the link's line item for this resource, if the platform has one.

    Asked filtered by resource_link_id; the answer is filtered again here, as a platform
    may ignore the filter. A line item of the link with no resourceId (the LMS made it
    itself) counts; one with another resourceId belongs to another assignment.
    """
    scopes = require(granted, READ_LINEITEMS)
    what = f"line items at {lineitems_url}"
    for page in _pages(
        session,
        platform,
        scopes,
        what,
        _with_query(lineitems_url, {"resource_link_id": resource_link_id}),
        LINEITEMS_TYPE,
        MAX_LINEITEM_PAGES,
    ):
        if not isinstance(page, list):
            raise MalformedAnswer(f"{what}: the answer is not a list of line items")
        for item in page:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise MalformedAnswer(f"{what}: a line item has no id URL")
            if str(item.get("resourceLinkId") or "") != resource_link_id:
                continue
            if item.get("resourceId") not in (None, "", resource_id):
                continue
            return _lineitem_id(item["id"], lineitems_url, what)
    return None


def create_lineitem(
    session: Session,
    platform: LtiPlatform,
    lineitems_url: str,
    granted: Collection[str] | None,
    lineitem: dict[str, Any],
) -> str:
    """POST a new line item; returns its URL (the ``id`` the platform gave it)."""
    scopes = require(granted, CREATE_LINEITEM)
    what = f"line item creation at {lineitems_url}"
    response = _authorized(
        session,
        platform,
        scopes,
        what,
        "POST",
        lineitems_url,
        json=lineitem,
        headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
    )
    body = _json(response, what)
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise MalformedAnswer(f"{what}: the answer has no line item id URL")
    return _lineitem_id(body["id"], lineitems_url, what)


def _lineitem_id(url: str, lineitems_url: str, what: str) -> str:
    """A line item URL we will send tokens and scores to: on the service's own origin."""
    if origin_of(url) is None or origin_of(url) != origin_of(lineitems_url) or len(url) > 1024:
        raise MalformedAnswer(
            f"{what}: line item id {_snippet(url, 120)!r} is not a URL on the service's "
            f"origin {origin_of(lineitems_url)}"
        )
    return url


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


# ------------------------------------------------------------------------------ NRPS


def roster(session: Session, platform: LtiPlatform, memberships_url: str) -> list[dict[str, Any]]:
    """Every member of the context, following the Link rel="next" pages.

    All pages are read and checked before the caller writes anything: a roster that
    breaks on page 3 raises, and no enrollment changes.
    """
    what = f"the roster at {memberships_url}"
    members: list[dict[str, Any]] = []
    for page in _pages(
        session, platform, [ROSTER_SCOPE], what, memberships_url, ROSTER_TYPE, MAX_ROSTER_PAGES
    ):
        found = page.get("members") if isinstance(page, dict) else None
        if not isinstance(found, list):
            raise MalformedAnswer(f"{what}: the answer has no members list")
        members += [_member(m, what) for m in found]
    return members


_MEMBER_TEXT = ("name", "given_name", "family_name", "email")
#: NRPS 2.0 membership statuses (a member without one is Active).
MEMBER_STATUSES = ("Active", "Inactive", "Deleted")
#: The longest platform user id we store (``LtiIdentity.subject``).
MAX_USER_ID = 255


def _member(member: Any, what: str) -> dict[str, Any]:
    if not isinstance(member, dict):
        raise MalformedAnswer(f"{what}: a member is not an object")
    subject = member.get("user_id")
    if not isinstance(subject, str) or not subject.strip():
        raise MalformedAnswer(f"{what}: a member has no user_id")
    if len(subject) > MAX_USER_ID:
        raise MalformedAnswer(f"{what}: a member's user_id is over {MAX_USER_ID} characters")
    if member.get("status", "Active") not in MEMBER_STATUSES:
        # Anything but Active removes the member: a status we cannot read must not.
        raise MalformedAnswer(
            f"{what}: member {subject!r} has status {_snippet(str(member['status']), 40)!r}, "
            f"not one of {', '.join(MEMBER_STATUSES)}"
        )
    roles = member.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise MalformedAnswer(f"{what}: member {subject!r} has roles that are not a list of names")
    for name in _MEMBER_TEXT:
        if member.get(name) is not None and not isinstance(member[name], str):
            raise MalformedAnswer(f"{what}: member {subject!r} has a {name} that is not text")
    return member
