"""Registering an LMS (platform) and its deployments."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import LtiDeployment, LtiPlatform
from service.origins import origin_of


class RegistrationError(ValueError):
    """A registration field is missing or not a usable URL."""


def _url(name: str, value: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise RegistrationError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def register(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    jwks_url: str,
    deployment_ids: Iterable[str],
    name: str = "",
    token_audience: str | None = None,
    link_by_email: bool = False,
    web_origins: Iterable[str] = (),
) -> LtiPlatform:
    """Add a platform, or update the one with the same issuer and client id.

    Deployment ids are added to those already known (a platform may have several).
    ``link_by_email`` lets a first launch take the non-admin local account with the
    launch's email; leave it off unless the platform asserts verified emails.
    ``web_origins`` are the LMS's page origins beyond its issuer's and login URL's (they
    replace those given before).
    """
    issuer, client_id = (issuer or "").strip(), (client_id or "").strip()
    if not issuer:
        raise RegistrationError("the issuer is required (the platform's iss, e.g. its base URL)")
    if not client_id:
        raise RegistrationError("the client id is required (given by the platform)")
    deployments = [d.strip() for d in deployment_ids if d and d.strip()]
    if not deployments:
        raise RegistrationError("give at least one deployment id")
    platform = session.scalar(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )
    if platform is None:
        platform = LtiPlatform(issuer=issuer, client_id=client_id)
        session.add(platform)
    platform.name = (name or issuer)[:255]
    platform.auth_login_url = _url("the OIDC auth login URL", auth_login_url)
    platform.auth_token_url = _url("the access token URL", auth_token_url)
    platform.jwks_url = _url("the JWKS URL", jwks_url)
    platform.token_audience = (token_audience or "").strip() or None
    platform.link_by_email = bool(link_by_email)
    platform.extra_origins = _origins(web_origins) or None
    known = {d.deployment_id for d in platform.deployments}
    for deployment_id in deployments:
        if deployment_id not in known:
            platform.deployments.append(LtiDeployment(deployment_id=deployment_id))
    session.commit()
    return platform


def _origins(values: Iterable[str]) -> list[str]:
    found: list[str] = []
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        origin = origin_of(value)
        if origin is None:
            raise RegistrationError(
                f"a web origin must be an http(s) URL such as https://school.lms.edu, got {value!r}"
            )
        if origin not in found:
            found.append(origin)
    return found


def web_origins(platform: LtiPlatform) -> list[str]:
    """Where the LMS shows its pages: the origins of its issuer and login URL, plus extras.

    The one answer to "is this the platform's web page?": these origins may frame our
    LTI pages (CSP frame-ancestors) and are the only places a Deep Linking response is
    posted to. An issuer that is not a URL adds nothing.
    """
    found: list[str] = []
    for url in (platform.issuer, platform.auth_login_url, *(platform.extra_origins or [])):
        origin = origin_of(url or "")
        if origin is not None and origin not in found:
            found.append(origin)
    return found


def find(session: Session, issuer: str, client_id: str | None) -> list[LtiPlatform]:
    """Platforms with this issuer (and client id, when the platform sent one)."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    return list(session.scalars(query))


def has_deployment(platform: LtiPlatform, deployment_id: str) -> bool:
    return any(d.deployment_id == deployment_id for d in platform.deployments)
