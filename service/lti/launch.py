"""OIDC login and launch validation, then users, courses and enrollments from the claims.

Validation happens in full before anything is written, so a refused launch creates no
user, course or enrollment. Signatures are checked with PyJWT against the platform's
JWKS; the nonce and state are ours, stored, and good for exactly one launch.

A state is also good in one browser only: the one that started the login. Without that,
an (id_token, state) pair obtained by one person and posted from another's browser would
log that browser in as the first (login CSRF). The browser proves itself with the login
cookie set at /lti/login or, where the LMS frame cannot keep cookies, through the
platform's client-side storage (1EdTech "LTI OIDC Login with LTI Client Side
postMessages"): see :class:`StorageCheck` and docs/security.md for what that proves.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db import rows_changed
from service.lti import deep_link_settings, platforms
from service.models import (
    Assignment,
    Course,
    Enrollment,
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiLoginState,
    LtiPlatform,
    LtiResourceLink,
    Role,
    User,
    utcnow,
)
from service.origins import origin_of
from service.routing import row_id
from service.services import access, enrollments, timing

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
RESOURCE_LINK = LTI + "resource_link"
CUSTOM = LTI + "custom"
TARGET_LINK_URI = LTI + "target_link_uri"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"

#: How long a login may take between /lti/login and /lti/launch; also the login cookie's
#: max-age, and the age after which a state row is purged.
STATE_LIFETIME = timedelta(minutes=10)
#: The login cookie's name is this plus a digest of the state: one cookie per login, so two
#: tool frames on one LMS page (each its own login) do not overwrite each other's.
LOGIN_COOKIE_PREFIX = "lti_login_"
#: A window name as a platform sends it in ``lti_storage_target`` ("_parent" or a frame name).
_FRAME_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: Why a launch without the proof of its browser is refused, and what the person can do.
NOT_THIS_BROWSER = (
    "This launch did not start in this browser: the sign-in cookie mixgrade set when the LMS "
    "opened the link is missing or different. Either the browser blocks cookies inside the "
    "LMS page, or the launch was sent from another browser. Open the link again from the LMS "
    "in this browser; if that fails too, allow cookies for this site (or open the tool in a "
    "new window) and try once more."
)
#: Clock skew allowed on iat/exp between us and the platform.
LEEWAY_SECONDS = 60

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"

#: Context (membership) roles that teach the course. Institution and system roles
#: (…/institution/person#Instructor, …/system/person#Administrator) are deliberately absent:
#: they describe the person elsewhere (Canvas sends them to a student who teaches another
#: course), never their part in this course. Bare names are the deprecated simple names
#: LTI 1.3 allows for context roles only.
_TEACHING_ROLES = frozenset(
    {
        f"{_MEMBERSHIP}#Instructor",
        f"{_MEMBERSHIP}#TeachingAssistant",
        f"{_MEMBERSHIP}/Instructor#TeachingAssistant",
        f"{_MEMBERSHIP}#ContentDeveloper",
        f"{_MEMBERSHIP}#Administrator",
        "Instructor",
        "TeachingAssistant",
        "ContentDeveloper",
        "Administrator",
    }
)
#: Context roles that take the course for credit.
_LEARNING_ROLES = frozenset({f"{_MEMBERSHIP}#Learner", f"{_MEMBERSHIP}/Learner#Learner", "Learner"})
_NON_CREDIT_LEARNER = f"{_MEMBERSHIP}/Learner#NonCreditLearner"
#: Context roles we recognise but have no view for: (role, what the person is told).
_UNSERVED_ROLES = (
    ((f"{_MEMBERSHIP}#Mentor", "Mentor"), "observers (mentors)"),
    ((f"{_MEMBERSHIP}/Instructor#Grader",), "graders"),
    ((f"{_MEMBERSHIP}#Member", "Member"), "course members"),
    ((f"{_MEMBERSHIP}#Manager", "Manager"), "course managers"),
    ((f"{_MEMBERSHIP}#Officer", "Officer"), "course officers"),
)


class LaunchRefused(Exception):
    """The launch is not accepted; ``message`` says why in words an admin can act on."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def map_roles(roles: list[str]) -> Role | None:
    """The person's role in this LMS course, from its context roles only; None if none fits.

    Teaching roles win over learning ones. A non-credit learner is a student unless the
    launch also says Mentor (how an LMS may describe an observer, who must not submit).
    The result is never a site-wide role: it only becomes an enrollment.
    """
    given = set(roles)
    if given & _TEACHING_ROLES:
        return Role.instructor
    if given & _LEARNING_ROLES:
        return Role.student
    mentor = bool(given & set(_UNSERVED_ROLES[0][0]))
    if _NON_CREDIT_LEARNER in given and not mentor:
        return Role.student
    return None


def refusal_for(roles: list[str]) -> str:
    """Why a launch whose roles give no course role is refused, in words for that person."""
    given = set(roles)
    for names, who in _UNSERVED_ROLES:
        if given & set(names):
            return (
                f"mixgrade has no view for {who} yet, so this LMS link cannot open for you. "
                "Ask the course's instructor for what you need (for example a grade report)."
            )
    return (
        "Your role in this LMS course is neither instructor nor learner, so mixgrade cannot "
        "tell what to show you. Ask the course's instructor or your LMS admin."
    )


# ------------------------------------------------------------------------ login (OIDC)


@dataclass(frozen=True)
class Login:
    """A login begun: where to send the browser, and what it must carry back to the launch."""

    auth_url: str
    state: str
    nonce: str
    #: The login cookie (name and value) the browser must bring to /lti/launch.
    cookie_name: str
    cookie_value: str
    #: The window holding the platform's storage (``lti_storage_target``), if it offered one.
    storage_target: str | None
    #: The only origin storage messages go to and are taken from: the OIDC auth URL's.
    platform_origin: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def login_cookie_name(state: str) -> str:
    """The name of the cookie that proves the browser of the login whose state this is."""
    return LOGIN_COOKIE_PREFIX + _digest(state)[:16]


def purge_login_states(session: Session) -> int:
    """Delete the logins older than the lifetime, used or not; the caller commits.

    Every login runs this (an index range scan on created_at), so however many anonymous
    requests open logins, the table holds at most one lifetime's worth. A used state is
    kept until then only so that a replay is told "already used"; afterwards "unknown
    state" refuses it just the same.
    """
    cutoff = utcnow() - STATE_LIFETIME
    result = session.execute(delete(LtiLoginState).where(LtiLoginState.created_at < cutoff))
    return rows_changed(result)


def begin_login(session: Session, params: dict[str, str], redirect_uri: str) -> Login:
    """Store a fresh state and nonce bound to a new login cookie; say where to go next."""
    from urllib.parse import urlencode

    issuer = params.get("iss", "")
    if not issuer:
        raise LaunchRefused("The login request has no 'iss': the platform is not identified.")
    if not params.get("login_hint"):
        raise LaunchRefused("The login request has no 'login_hint'.")
    found = platforms.find(session, issuer, params.get("client_id"))
    if not found:
        raise LaunchRefused(
            f"No platform is registered with issuer {issuer!r}"
            + (f" and client id {params['client_id']!r}" if params.get("client_id") else "")
            + ". An admin registers it under /lti/platforms or with `mixgrade lti register`.",
            403,
        )
    if len(found) > 1:
        raise LaunchRefused(
            f"Several registrations share issuer {issuer!r}; the platform must send client_id."
        )
    platform = found[0]
    target = params.get("lti_storage_target") or None
    if target is not None and not _FRAME_NAME.fullmatch(target):
        raise LaunchRefused(
            "The login request's lti_storage_target is not a window name "
            "(letters, digits, '.', '_' or '-', at most 64)."
        )
    platform_origin = origin_of(platform.auth_login_url)
    if target is not None and platform_origin is None:
        target = None  # no origin to address storage messages to: the cookie alone decides
    proof = secrets.token_urlsafe(32)
    state = LtiLoginState(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        platform=platform,
        browser_hash=_digest(proof),
        storage_target=target,
    )
    purge_login_states(session)
    session.add(state)
    session.commit()
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": params["login_hint"],
        "state": state.state,
        "nonce": state.nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return Login(
        auth_url=platform.auth_login_url + separator + urlencode(query),
        state=state.state,
        nonce=state.nonce,
        cookie_name=login_cookie_name(state.state),
        cookie_value=proof,
        storage_target=target,
        platform_origin=platform_origin or "",
    )


# --------------------------------------------------------------------------- validation


@dataclass
class Launch:
    """A validated launch: the platform and the verified claims."""

    platform: LtiPlatform
    claims: dict[str, Any]
    role: Role

    @property
    def message_type(self) -> str:
        return self.claims[MESSAGE_TYPE]

    @property
    def deployment_id(self) -> str:
        return self.claims[DEPLOYMENT_ID]


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _platform_key(platform: LtiPlatform, token: str) -> Any:
    client = _jwks_clients.get(platform.jwks_url)
    if client is None:
        client = jwt.PyJWKClient(platform.jwks_url, cache_keys=True, lifespan=300, timeout=10)
        _jwks_clients[platform.jwks_url] = client
    try:
        return client.get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientConnectionError as error:
        raise LaunchRefused(
            f"The platform's JWKS at {platform.jwks_url} could not be fetched: {error}", 502
        ) from None
    except (jwt.PyJWKClientError, jwt.DecodeError) as error:
        raise LaunchRefused(
            f"The launch is signed with a key the platform does not publish: {error}", 401
        ) from None


@dataclass(frozen=True)
class StorageCheck:
    """A launch whose login cookie did not come back, but whose login used platform storage.

    Nothing is spent yet. The browser gets a page that asks the platform's storage window
    (``storage_target``, answering from ``platform_origin`` only) for the value our login
    page put there, and continues with ``continuation`` only if it matches ``state``. The
    token is issued once per state and exists only in that page, so only that browser can
    continue (the continuation must also be posted by our own page: see the view).
    """

    id_token: str
    state: str
    storage_target: str
    platform_origin: str
    continuation: str


def validate(
    session: Session,
    form: Mapping[str, str],
    cookies: Mapping[str, str],
    continuation: str | None = None,
) -> Launch | StorageCheck:
    """Check everything the spec requires of a launch, then spend its state and nonce.

    ``cookies`` are the request's: the login cookie must match the state's, before
    anything is decoded or written. A launch without it whose login used platform storage
    is a :class:`StorageCheck` (nothing spent) until it comes back with ``continuation``.
    """
    if form.get("error"):
        raise LaunchRefused(
            f"The platform refused the login: {form.get('error')} "
            f"{form.get('error_description', '')}".strip()
        )
    token, state_value = form.get("id_token", ""), form.get("state", "")
    if not token or not state_value:
        raise LaunchRefused("The launch must carry an id_token and the state from /lti/login.")
    state = session.scalar(select(LtiLoginState).where(LtiLoginState.state == state_value))
    if state is None:
        raise LaunchRefused("Unknown state: this launch did not start with our /lti/login.")
    if state.used_at is not None:
        raise LaunchRefused("This launch was already used (replayed state and nonce).", 401)
    created = timing.as_utc(state.created_at)
    assert created is not None
    if utcnow() - created > STATE_LIFETIME:
        raise LaunchRefused("The login took too long; start the launch again from the LMS.")
    needs_storage = not _browser_proven(state, cookies, continuation)
    platform = state.platform
    try:
        claims = jwt.decode(
            token,
            _platform_key(platform, token),
            algorithms=["RS256", "RS384", "RS512"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except jwt.ExpiredSignatureError:
        raise LaunchRefused("The launch token has expired (exp is in the past).", 401) from None
    except jwt.InvalidAudienceError:
        raise LaunchRefused(
            f"The launch token is not addressed to us: aud must contain {platform.client_id!r}.",
            401,
        ) from None
    except jwt.InvalidIssuerError:
        raise LaunchRefused(f"The launch token's issuer is not {platform.issuer!r}.", 401) from None
    except jwt.InvalidSignatureError:
        raise LaunchRefused(
            "The launch token's signature does not verify with the platform's keys.", 401
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise LaunchRefused(f"The launch token lacks the {error.claim!r} claim.", 401) from None
    except jwt.InvalidTokenError as error:
        raise LaunchRefused(f"The launch token is not valid: {error}.", 401) from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != platform.client_id:
        raise LaunchRefused("The launch token has several audiences and azp is not our client id.")
    if claims.get("azp") not in (None, platform.client_id):
        raise LaunchRefused(f"The launch token's azp is not our client id {platform.client_id!r}.")
    if not secrets.compare_digest(str(claims["nonce"]), state.nonce):
        raise LaunchRefused("The launch token's nonce is not the one issued for this login.", 401)
    message_type = claims.get(MESSAGE_TYPE)
    if message_type not in (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST):
        raise LaunchRefused(f"Unsupported LTI message type {message_type!r}.")
    if claims.get(VERSION) != "1.3.0":
        raise LaunchRefused(f"Unsupported LTI version {claims.get(VERSION)!r}; 1.3.0 is needed.")
    deployment_id = claims.get(DEPLOYMENT_ID)
    if not deployment_id or not platforms.has_deployment(platform, str(deployment_id)):
        raise LaunchRefused(
            f"Unknown deployment {deployment_id!r} for this platform; "
            "an admin adds it to the registration.",
            403,
        )
    if ROLES not in claims or not isinstance(claims[ROLES], list):
        raise LaunchRefused(
            "The launch has no roles claim, so we cannot tell student from teacher."
        )
    roles = [str(r) for r in claims[ROLES]]
    role = map_roles(roles)
    if role is None:
        raise LaunchRefused(refusal_for(roles), 403)
    context = claims.get(CONTEXT)
    if not isinstance(context, dict) or not context.get("id"):
        raise LaunchRefused("The launch has no context (course) claim.")
    if message_type == RESOURCE_LINK_REQUEST:
        link = claims.get(RESOURCE_LINK)
        if not isinstance(link, dict) or not link.get("id"):
            raise LaunchRefused("A resource link launch must carry resource_link.id.")
    if message_type == DEEP_LINKING_REQUEST:
        if role != Role.instructor:
            raise LaunchRefused("Only instructors may place mixgrade assignments.", 403)
        try:  # before the state is spent: a request we cannot answer writes nothing
            deep_link_settings.read(platform, claims.get(DL_SETTINGS))
        except deep_link_settings.SettingsRefused as refused:
            raise LaunchRefused(str(refused)) from None
    if message_type == RESOURCE_LINK_REQUEST:
        check_link(session, platform, claims)
    if needs_storage:
        return _storage_check(session, state, token)
    # Spend the state (and with it the nonce) exactly once, even under concurrent replays.
    spent = session.execute(
        update(LtiLoginState)
        .where(LtiLoginState.id == state.id, LtiLoginState.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if rows_changed(spent) != 1:
        session.rollback()
        raise LaunchRefused("This launch was already used (replayed state and nonce).", 401)
    session.commit()
    return Launch(platform=platform, claims=claims, role=role)


def _browser_proven(
    state: LtiLoginState, cookies: Mapping[str, str], continuation: str | None
) -> bool:
    """True if this request comes from the login's browser; False if only storage can tell.

    Refuses (401) a continuation that is not the one issued, a login cookie that is not
    this login's, and a launch with neither cookie nor storage to ask.
    """
    if continuation is not None:
        if state.continuation_hash and secrets.compare_digest(
            _digest(continuation), state.continuation_hash
        ):
            return True
        raise LaunchRefused(
            "This continuation was not issued for this launch; open the link again from the LMS.",
            401,
        )
    cookie = cookies.get(login_cookie_name(state.state))
    if cookie is not None:
        if state.browser_hash and secrets.compare_digest(_digest(cookie), state.browser_hash):
            return True
        raise LaunchRefused(NOT_THIS_BROWSER, 401)
    if state.storage_target:
        return False
    raise LaunchRefused(NOT_THIS_BROWSER, 401)


def _storage_check(session: Session, state: LtiLoginState, token: str) -> StorageCheck:
    """Issue the state's one continuation token (its hash stored) for the check page."""
    assert state.storage_target is not None
    check = StorageCheck(
        id_token=token,
        state=state.state,
        storage_target=state.storage_target,
        platform_origin=origin_of(state.platform.auth_login_url) or "",
        continuation=secrets.token_urlsafe(32),
    )
    issued = session.execute(
        update(LtiLoginState)
        .where(
            LtiLoginState.id == state.id,
            LtiLoginState.used_at.is_(None),
            LtiLoginState.continuation_hash.is_(None),
        )
        .values(continuation_hash=_digest(check.continuation))
    )
    if rows_changed(issued) != 1:
        session.rollback()
        raise LaunchRefused(
            "This launch is already being checked (or was used) in another window; "
            "open the link again from the LMS.",
            401,
        )
    session.commit()
    return check


def check_link(session: Session, platform: LtiPlatform, claims: dict[str, Any]) -> None:
    """Refuse (409), before anything is written, a link that would bind outside its course.

    A link binds only inside its own LMS course: ``custom.assignment_id`` must name an
    assignment of the mixgrade course that this LMS course maps to (a first launch's
    course has none yet), and a link id already known must belong to this LMS course.
    Otherwise the link row, once written, would post this assignment's grades to a
    foreign line item.
    """
    context = session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id,
            LtiContext.context_id == str(claims[CONTEXT]["id"]),
        )
    )
    course_id = context.course_id if context else None
    link = session.scalar(
        select(LtiResourceLink).where(
            LtiResourceLink.platform_id == platform.id,
            LtiResourceLink.resource_link_id == str(claims[RESOURCE_LINK]["id"]),
        )
    )
    if link is not None and (context is None or link.context_row_id != context.id):
        raise LaunchRefused(
            "This LMS link was placed in another LMS course; place it again from this one.", 409
        )
    custom = claims.get(CUSTOM)
    wanted = row_id(custom.get("assignment_id")) if isinstance(custom, dict) else None
    assignment = session.get(Assignment, wanted) if wanted is not None else None
    if assignment is None and link is not None:
        assignment = link.assignment
    if assignment is not None and assignment.course_id != course_id:
        raise LaunchRefused(
            "This link points at an assignment of another course; ask your instructor.", 409
        )


# --------------------------------------------------------------------------- provisioning


def user_for(
    session: Session,
    platform: LtiPlatform,
    subject: str,
    *,
    email: str | None,
    name: str | None,
) -> User:
    """Our user for the platform's ``sub``: found by that identity only, else created.

    Never found by email: an email claim is whatever the platform (or anyone who can edit
    a profile there) says, and matching it would hand a local account, an admin's
    included, to a launch. A new user gets the lowest site role (student); what they may
    do in a course comes from the enrollment. If the email is already taken (the unique
    column), the new account gets a placeholder address instead of the other's, unless
    an admin turned on ``link_by_email`` for this platform (see ``_may_link``).
    """
    identity = session.scalar(
        select(LtiIdentity).where(
            LtiIdentity.platform_id == platform.id, LtiIdentity.subject == subject
        )
    )
    if identity is not None:
        user = identity.user
        if name and user.name.startswith("LMS user "):
            user.name = name[:255]
        return user
    digest = hashlib.sha256(f"{platform.id}:{subject}".encode()).hexdigest()[:20]
    email = (email or "").strip().lower()[:255] or None
    if email and email.endswith("@lti.invalid"):
        email = None  # our placeholders' domain: a claim must not take another's placeholder
    holder = session.scalar(select(User).where(User.email == email)) if email else None
    if holder is not None and _may_link(session, platform, holder):
        session.add(LtiIdentity(platform=platform, subject=subject, user=holder))
        session.flush()
        return holder
    if holder is not None:
        email = None
    user = User(
        email=email or f"lti-{digest}@lti.invalid",
        name=(name or "").strip()[:255] or f"LMS user {digest[:6]}",
        role=Role.student,
    )
    session.add(user)
    session.add(LtiIdentity(platform=platform, subject=subject, user=user))
    session.flush()
    return user


def _may_link(session: Session, platform: LtiPlatform, user: User) -> bool:
    """An admin's explicit per-platform choice; never an admin account, never a second sub."""
    if not platform.link_by_email or access.is_admin(user):
        return False
    taken = session.scalar(
        select(LtiIdentity.id).where(
            LtiIdentity.platform_id == platform.id, LtiIdentity.user_id == user.id
        )
    )
    return taken is None


def context_for(session: Session, launch: Launch) -> LtiContext:
    """The LMS course's context row and our course, created on the first launch."""
    claim = launch.claims[CONTEXT]
    platform = launch.platform
    row = session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id, LtiContext.context_id == str(claim["id"])
        )
    )
    if row is None:
        digest = hashlib.sha256(f"{platform.issuer}|{claim['id']}".encode()).hexdigest()[:8]
        label = str(claim.get("label") or "LTI").strip()[:40]
        course = Course(
            code=f"{label}-{digest}",
            title=str(claim.get("title") or label)[:255],
        )
        row = LtiContext(
            platform=platform,
            deployment_id=launch.deployment_id,
            context_id=str(claim["id"]),
            course=course,
        )
        session.add(row)
    nrps = launch.claims.get(NRPS)
    if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
        row.memberships_url = str(nrps["context_memberships_url"])
    ags = launch.claims.get(AGS_ENDPOINT)
    if isinstance(ags, dict) and ags.get("lineitems"):
        row.lineitems_url = str(ags["lineitems"])
    session.flush()
    return row


def remember_member(session: Session, context: LtiContext, user: User) -> None:
    """Note that ``user`` is in this LMS course (their scores go to its line items)."""
    known = session.scalar(
        select(LtiContextMember.id).where(
            LtiContextMember.context_row_id == context.id, LtiContextMember.user_id == user.id
        )
    )
    if known is None:
        session.add(LtiContextMember(context_row_id=context.id, user_id=user.id))
        session.flush()


def forget_member(session: Session, context: LtiContext, user_id: int) -> None:
    """The LMS says they left this course: its line items get no more of their scores."""
    session.execute(
        delete(LtiContextMember).where(
            LtiContextMember.context_row_id == context.id, LtiContextMember.user_id == user_id
        )
    )


def enroll(session: Session, user: User, course: Course, role: Role) -> Enrollment:
    """The launch's role in the course, except that the last instructor stays one."""
    try:
        return enrollments.set_role(session, user, course, role)[0]
    except enrollments.LastInstructor:
        return session.scalars(
            select(Enrollment).where(
                Enrollment.user_id == user.id, Enrollment.course_id == course.id
            )
        ).one()


def provision(session: Session, launch: Launch) -> tuple[User, LtiContext]:
    """Create or update the user, the course and the enrollment that the launch describes."""
    claims = launch.claims
    user = user_for(
        session,
        launch.platform,
        str(claims["sub"]),
        email=claims.get("email"),
        name=claims.get("name")
        or " ".join(x for x in (claims.get("given_name"), claims.get("family_name")) if x),
    )
    context = context_for(session, launch)
    enroll(session, user, context.course, launch.role)
    remember_member(session, context, user)
    return user, context


def resource_link_for(session: Session, launch: Launch, context: LtiContext) -> LtiResourceLink:
    """The link row, remembering its line item and which assignment it opens."""
    claim = launch.claims[RESOURCE_LINK]
    row = session.scalar(
        select(LtiResourceLink).where(
            LtiResourceLink.platform_id == launch.platform.id,
            LtiResourceLink.resource_link_id == str(claim["id"]),
        )
    )
    if row is None:
        row = LtiResourceLink(
            platform=launch.platform, context=context, resource_link_id=str(claim["id"])
        )
        session.add(row)
    custom = launch.claims.get(CUSTOM) or {}
    # An id no assignment has (too big, or unknown) is ignored, not a 500 at the flush.
    wanted = row_id(custom.get("assignment_id")) if isinstance(custom, dict) else None
    if wanted is not None and session.get(Assignment, wanted) is not None:
        row.assignment_id = wanted
    ags = launch.claims.get(AGS_ENDPOINT)
    if isinstance(ags, dict):
        if ags.get("lineitem"):
            row.lineitem_url = str(ags["lineitem"])
        row.ags_scopes = [str(s) for s in ags.get("scope", []) if isinstance(s, str)]
    session.flush()
    return row
