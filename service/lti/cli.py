"""`mixgrade lti …`: register platforms, rotate our key, resend scores, sync rosters."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from sqlalchemy import select

from service.cli_support import database_session


@click.group()
def lti() -> None:
    """LTI 1.3: LMS platforms, grade passback and rosters."""


@lti.command("register")
@click.option("--issuer", required=True, help="The platform's issuer (iss claim).")
@click.option("--client-id", required=True, help="The client id the platform gave mixgrade.")
@click.option("--login-url", required=True, help="The platform's OIDC auth (login) URL.")
@click.option("--token-url", required=True, help="The platform's OAuth2 access token URL.")
@click.option("--jwks-url", required=True, help="The platform's public keyset URL.")
@click.option("--deployment", "deployments", multiple=True, required=True, help="Repeatable.")
@click.option("--name", default="", help="A name for people (default: the issuer).")
@click.option("--token-audience", default=None, help="Only if the LMS wants another aud.")
@click.option("--link-by-email", is_flag=True,
              help="A first launch takes the local non-admin account with its email.")  # fmt: skip
@click.option("--web-origin", "web_origins", multiple=True,
              help="Repeatable: another origin of the LMS's pages.")  # fmt: skip
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where mixgrade is reached, to print the URLs to give the LMS.")  # fmt: skip
def register(
    issuer: str,
    client_id: str,
    login_url: str,
    token_url: str,
    jwks_url: str,
    deployments: tuple[str, ...],
    name: str,
    token_audience: str | None,
    link_by_email: bool,
    web_origins: tuple[str, ...],
    base_url: str,
) -> None:
    """Register (or update) an LMS and print the URLs to enter in it."""
    from service.lti import keys, platforms

    with database_session() as session:
        try:
            platform = platforms.register(
                session,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=login_url,
                auth_token_url=token_url,
                jwks_url=jwks_url,
                deployment_ids=deployments,
                name=name,
                token_audience=token_audience,
                link_by_email=link_by_email,
                web_origins=web_origins,
            )
        except platforms.RegistrationError as error:
            raise click.ClickException(str(error)) from None
        keys.signing_key(session)
        base = base_url.rstrip("/")
        click.echo(f"platform {platform.id} registered: {platform.name}")
        click.echo(f"  OIDC login initiation URL: {base}/lti/login")
        click.echo(f"  Redirect / launch URL:     {base}/lti/launch")
        click.echo(f"  Deep Linking URL:          {base}/lti/launch")
        click.echo(f"  Public keyset (JWKS) URL:  {base}/lti/jwks")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhm]?)")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "": "days"}
#: Longer than any platform caches a JWKS; a key published for years is a key never retired.
MAX_GRACE = timedelta(days=365)


def _duration(text: str) -> timedelta:
    """``7d``, ``36h``, ``90m`` or a bare number of days."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise click.BadParameter(
            f"{text!r} is not a duration: write e.g. 7d, 36h, 90m or 0", param_hint="--grace"
        )
    try:
        period = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    except OverflowError:
        period = timedelta.max
    if period > MAX_GRACE:
        raise click.BadParameter("keep the old key at most a year", param_hint="--grace")
    return period


@lti.command("rotate-key")
@click.option("--grace", default="7d", show_default=True,
              help="How long the old key stays in /lti/jwks (platforms cache it): "
                   "e.g. 7d, 36h, 90m; 0 drops it at once (a leaked key).")  # fmt: skip
def rotate_key(grace: str) -> None:
    """Make a new LTI signing key; the old one stops signing and leaves /lti/jwks later."""
    from service.lti import keys

    period = _duration(grace)
    with database_session() as session:
        rotation = keys.rotate(session, period)
        click.echo(f"new signing key: {rotation.new.kid} (signs from now on)")
        until = rotation.published_until.strftime("%Y-%m-%d %H:%M UTC")
        for old in rotation.retired:
            click.echo(f"old key {old.kid}: no longer signs; stays in /lti/jwks until {until}")
        if not rotation.retired:
            click.echo("there was no signing key before: nothing to retire")


@lti.command("platforms")
def list_platforms() -> None:
    """Registered platforms and their deployments."""
    from service.models import LtiPlatform

    with database_session() as session:
        for p in session.scalars(select(LtiPlatform).order_by(LtiPlatform.id)):
            deployments = ",".join(d.deployment_id for d in p.deployments)
            click.echo(f"{p.id}\t{p.name}\t{p.issuer}\t{p.client_id}\t{deployments}")


@lti.command("resend")
@click.option("--failed", is_flag=True, help="Also scores that were given up on.")
def resend(failed: bool) -> None:
    """Queue every score not yet accepted by its LMS again."""
    from service import queue
    from service.config import Settings
    from service.lti import passback

    queue.configure(Settings.from_env())
    with database_session() as session:
        ids = passback.resend_unsent(session, include_failed=failed)
    click.echo(f"queued {len(ids)} score sends")


@lti.command("roster-sync")
@click.option("--course", "code", required=True, help="Course code.")
def roster_sync(code: str) -> None:
    """Sync a course's enrollments from its LMS roster (NRPS)."""
    from service.lti import roster
    from service.models import Course, LtiContext

    with database_session() as session:
        course = session.scalar(select(Course).where(Course.code == code))
        if course is None:
            raise click.ClickException(f"no course with code {code!r}")
        contexts = session.scalars(select(LtiContext).where(LtiContext.course_id == course.id))
        found = False
        for context in contexts:
            found = True
            try:
                report = roster.sync(session, context)
            except roster.RosterUnavailable as error:
                raise click.ClickException(f"roster sync failed: {error}") from None
            click.echo(f"{context.platform.name}: {report.summary()}")
        if not found:
            raise click.ClickException(f"course {code} has not been launched from an LMS yet")
