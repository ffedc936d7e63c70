"""`mixgrade tokens …`: make, list and revoke REST API tokens from the shell."""

from __future__ import annotations

import click
from sqlalchemy import select

from service.cli_support import database_session


@click.group()
def tokens() -> None:
    """REST API bearer tokens."""


@tokens.command("create")
@click.option("--user", "email", required=True, help="Email of the user the token acts as.")
@click.option("--course", "codes", multiple=True, help="Course code to scope to (repeatable).")
@click.option("--name", default="", help="A label to tell tokens apart.")
def create(email: str, codes: tuple[str, ...], name: str) -> None:
    """Make a token and print it (it is shown only this once)."""
    from service.models import Course, User
    from service.services import tokens as token_service

    with database_session() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no user with email {email!r}")
        courses = []
        for code in codes:
            course = session.scalar(select(Course).where(Course.code == code))
            if course is None:
                raise click.ClickException(f"no course with code {code!r}")
            courses.append(course)
        try:
            row, secret = token_service.create(session, user, name=name, courses=courses)
        except token_service.TokenRefused as error:
            raise click.ClickException(str(error)) from None
        scope = ", ".join(codes) or "all of the user's courses"
        click.echo(f"token {row.id} for {user.email} ({scope}):")
        click.echo(secret)


@tokens.command("list")
def list_tokens() -> None:
    """Every token: id, prefix, user, scope, state."""
    from service.models import ApiToken

    with database_session() as session:
        for row in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            scope = ",".join(c.code for c in row.courses) or "all"
            state = "revoked" if row.revoked_at else "live"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.user.email}\t{scope}\t{state}\t{row.name}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    from service.services import tokens as token_service

    with database_session() as session:
        try:
            row = token_service.revoke(session, token_id)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"token {row.id} ({row.prefix}…) is revoked")
