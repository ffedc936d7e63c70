"""LTI Dynamic Registration 1.0: an LMS admin pastes one URL, and the LMS is registered.

The 1EdTech flow: the platform opens our registration page with ``openid_configuration``
(the URL of its OpenID configuration) and, optionally, ``registration_token``. We fetch
that configuration and check it (:func:`discover`); a site admin confirms; we POST our
client registration to its ``registration_endpoint`` with the token as a Bearer, and read
back the client id and deployment id the platform gave us (:func:`complete`). The platform
is then registered exactly as an admin would register it by hand
(:func:`service.lti.platforms.register`).

Nothing here trusts the configuration's URLs beyond what registering by hand would: each
must be an http(s) URL, and the issuer must match the configuration URL (see
:func:`check_issuer`), so a page on one host cannot register itself as another LMS.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from service.lti import platforms
from service.models import LtiPlatform
from service.origins import origin_of

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
#: What mixgrade calls: line items (find or create, AGS), scores (AGS), rosters (NRPS).
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: A launch opens an assignment; Deep Linking places one.
MESSAGES = {
    "LtiResourceLinkRequest": "mixgrade",
    "LtiDeepLinkingRequest": "mixgrade: place an assignment",
}
#: The id_token claims a launch uses (who the user is, and their name and email).
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
#: The endpoints a platform's configuration must name for us to launch and call it.
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
TIMEOUT = 15
#: A configuration or registration answer is a few kilobytes; more is not one.
MAX_ANSWER_BYTES = 1_000_000
#: What the platform columns hold (service/models.py LtiPlatform, LtiDeployment).
MAX_ISSUER, MAX_URL, MAX_ID = 512, 1024, 255


class RegistrationFailed(Exception):
    """Registration cannot go on: ``message`` says why, ``status`` is the page's status.

    400: the registration URL itself is wrong; 409: the configuration changed between what
    the admin saw and the confirmation; 422: the platform's configuration is not one we can
    register; 502: the platform could not be reached, answered something that is not
    JSON, or refused our registration.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PlatformConfiguration:
    """What the platform's OpenID configuration says, checked."""

    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    #: The ``aud`` for service-token requests, when not the token endpoint.
    authorization_server: str | None
    product_family: str
    version: str
    #: What the platform says it supports; None when it does not say.
    messages_supported: tuple[str, ...] | None
    scopes_supported: tuple[str, ...] | None

    @property
    def fingerprint(self) -> str:
        """A digest of what the admin is shown, to know at confirmation that it still holds."""
        shown = [self.issuer, self.authorization_endpoint, self.token_endpoint, self.jwks_uri,
                 self.registration_endpoint, self.authorization_server or ""]  # fmt: skip
        return hashlib.sha256(json.dumps(shown).encode("utf-8")).hexdigest()

    @property
    def messages(self) -> list[str]:
        """Our message types that the platform supports (all, if it lists none)."""
        supported = self.messages_supported
        return [m for m in MESSAGES if supported is None or m in supported]

    @property
    def scopes(self) -> list[str]:
        """Our scopes that the platform offers (all, if it lists none)."""
        supported = self.scopes_supported
        return [s for s in SCOPES if supported is None or s in supported]


@dataclass(frozen=True)
class Registered:
    platform: LtiPlatform
    client_id: str
    deployment_id: str


def discover(url: str) -> PlatformConfiguration:
    """Fetch and check the platform's OpenID configuration at ``url``."""
    url = (url or "").strip()
    if origin_of(url) is None:
        raise RegistrationFailed(
            f"The openid_configuration parameter must be an http(s) URL, got {url[:200]!r}. "
            "Start the registration again from the LMS.",
            400,
        )
    what = f"The LMS's OpenID configuration at {url}"
    status, content_type, content = _exchange("GET", url, what)
    if status != 200:
        raise RegistrationFailed(
            f"{what} answered HTTP {status} instead of the configuration.", 502
        )
    return _configuration(url, _json_object(content, content_type, what))


def check_issuer(issuer: Any, url: str) -> str:
    """The issuer, if the configuration at ``url`` may speak for it.

    LTI Dynamic Registration (§3.5.1, "Issuer and OpenID Configuration URL Match") has the
    tool check that the issuer and the configuration URL match: the issuer is an http(s)
    URL without query or fragment, and the configuration URL lies under it (same scheme,
    host and port, and below the issuer's path). Otherwise any page could hand us a
    configuration that names another LMS's issuer, and then launch as that LMS.
    """
    if not isinstance(issuer, str) or origin_of(issuer) is None or len(issuer) > MAX_ISSUER:
        raise RegistrationFailed(
            f"The LMS's configuration has no usable issuer (got {str(issuer)[:200]!r}): it "
            "must be an http(s) URL.",
            422,
        )
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise RegistrationFailed(
            f"The LMS's issuer {issuer!r} has a query or fragment; an issuer has neither.", 422
        )
    base = parts.path.rstrip("/")
    path = urlsplit(url).path
    under = path == base or path.startswith(base + "/")
    if origin_of(issuer) != origin_of(url) or not under:
        raise RegistrationFailed(
            f"The LMS's issuer {issuer!r} does not match where its configuration came from "
            f"({url}): the configuration URL must be on the issuer's host, under its path. "
            "Nothing was registered.",
            422,
        )
    return issuer


def registration_request(config: PlatformConfiguration, tool: dict[str, str]) -> dict[str, Any]:
    """Our client registration (OpenID Connect Dynamic Client Registration + LTI's claim).

    ``tool`` holds our URLs as the admin page shows them (login, launch, jwks).
    """
    launch = tool["launch"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool["login"],
        "redirect_uris": [launch],
        "client_name": "mixgrade",
        "jwks_uri": tool["jwks"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(config.scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(launch).netloc,
            "target_link_uri": launch,
            "description": "Auto-graded assignments on linear, generalized linear and "
            "mixed-effects models, with feedback per part.",
            "claims": list(CLAIMS),
            "messages": [
                {"type": kind, "target_link_uri": launch, "label": MESSAGES[kind]}
                for kind in config.messages
            ],
        },
    }


def complete(
    session: Session,
    config: PlatformConfiguration,
    registration_token: str | None,
    tool: dict[str, str],
) -> Registered:
    """POST our registration to the platform and register the platform it answers for."""
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    what = f"The LMS's registration endpoint {config.registration_endpoint}"
    status, content_type, content = _exchange(
        "POST",
        config.registration_endpoint,
        what,
        json=registration_request(config, tool),
        headers=headers,
    )
    if status not in (200, 201):
        said = " ".join(content[:300].decode("utf-8", "replace").split())
        raise RegistrationFailed(
            f"The LMS refused the registration (HTTP {status}{': ' + said if said else ''}). "
            "Nothing was registered here; start again from the LMS.",
            502,
        )
    answer = _json_object(content, content_type, what)
    client_id = _identifier(answer.get("client_id"))
    if client_id is None:
        raise RegistrationFailed(
            "The LMS accepted the registration but sent no usable client_id (a string of at "
            f"most {MAX_ID} characters), so mixgrade could not recognise its launches. "
            "Nothing was registered here.",
            502,
        )
    tool_config = answer.get(TOOL_CONFIGURATION)
    deployment_id = _identifier(
        tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    )
    if deployment_id is None:
        raise RegistrationFailed(
            f"The LMS registered mixgrade as client {client_id!r} but sent no usable "
            "deployment id, so no launch would be accepted. Register the platform on the "
            "LMS platforms page with that client id and the deployment id the LMS shows.",
            502,
        )
    known = platforms.find(session, config.issuer, client_id)
    extras = [*(known[0].extra_origins or [] if known else []), config.url]
    try:
        platform = platforms.register(
            session,
            issuer=config.issuer,
            client_id=client_id,
            auth_login_url=config.authorization_endpoint,
            auth_token_url=config.token_endpoint,
            jwks_url=config.jwks_uri,
            deployment_ids=[deployment_id],
            name=_name(config),
            token_audience=config.authorization_server,
            web_origins=extras,
        )
    except platforms.RegistrationError as error:  # pragma: no cover - checked in discover
        raise RegistrationFailed(
            f"The LMS's configuration cannot be registered: {error}", 422
        ) from None
    return Registered(platform, client_id, deployment_id)


def _configuration(url: str, body: dict[str, Any]) -> PlatformConfiguration:
    issuer = check_issuer(body.get("issuer"), url)
    missing = [n for n in (*REQUIRED_ENDPOINTS, "registration_endpoint") if not body.get(n)]
    if missing:
        raise RegistrationFailed(
            f"The LMS's configuration lacks {', '.join(missing)}: mixgrade needs them to "
            "register and to accept launches. Nothing was registered.",
            422,
        )
    endpoints = {n: body[n] for n in (*REQUIRED_ENDPOINTS, "registration_endpoint")}
    for name, value in endpoints.items():
        if not isinstance(value, str) or origin_of(value) is None or len(value) > MAX_URL:
            raise RegistrationFailed(
                f"The LMS's {name} must be an http(s) URL of at most {MAX_URL} characters, "
                f"got {str(value)[:200]!r}.",
                422,
            )
    lti = body.get(PLATFORM_CONFIGURATION)
    lti = lti if isinstance(lti, dict) else {}
    audience = body.get("authorization_server")
    if not isinstance(audience, str) or len(audience) > MAX_URL:
        audience = None
    return PlatformConfiguration(
        url=url,
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        registration_endpoint=endpoints["registration_endpoint"],
        authorization_server=audience or None,
        product_family=str(lti.get("product_family_code") or "")[:100],
        version=str(lti.get("version") or "")[:100],
        messages_supported=_listed(lti.get("messages_supported"), key="type"),
        scopes_supported=_listed(body.get("scopes_supported")),
    )


def _identifier(value: Any) -> str | None:
    """A client or deployment id as sent (a string, or the number some LMSs send)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text if 0 < len(text) <= MAX_ID else None


def _listed(value: Any, key: str | None = None) -> tuple[str, ...] | None:
    """A list of strings (or of objects' ``key``), or None when absent or not a list."""
    if not isinstance(value, list):
        return None
    items = [v.get(key) if key and isinstance(v, dict) else v for v in value]
    return tuple(str(i) for i in items if isinstance(i, str))


def _exchange(method: str, url: str, what: str, **kwargs: Any) -> tuple[int, str, bytes]:
    """One request to the platform: its status, content type and body (at most a megabyte).

    Redirects are not followed: the issuer check holds for the URL the platform gave.
    """
    kwargs.setdefault("headers", {"Accept": "application/json"})
    try:
        with requests.request(
            method, url, timeout=TIMEOUT, allow_redirects=False, stream=True, **kwargs
        ) as response:
            content = b""
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > MAX_ANSWER_BYTES:
                    raise RegistrationFailed(
                        f"{what} answered more than a megabyte: that is not LTI JSON.", 502
                    )
            return response.status_code, response.headers.get("Content-Type", ""), content
    except requests.RequestException as error:
        raise RegistrationFailed(
            f"{what} could not be reached ({_reason(error)}). Nothing was registered.", 502
        ) from None


def _json_object(content: bytes, content_type: str, what: str) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        raise RegistrationFailed(
            f"{what} answered something that is not JSON ({content_type or 'no content type'}"
            "). Nothing was registered.",
            502,
        ) from None
    if not isinstance(body, dict):
        raise RegistrationFailed(f"{what} answered JSON that is not an object.", 502)
    return body


def _name(config: PlatformConfiguration) -> str:
    product = " ".join(p for p in (config.product_family, config.version) if p)
    return f"{product} ({config.issuer})" if product else config.issuer


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return f"no answer within {TIMEOUT} s"
    if isinstance(error, requests.ConnectionError):
        return "the connection failed"
    return type(error).__name__
