"""An LTI 1.3 platform that we did not write, over real HTTP on 127.0.0.1, run in a thread.

The platform is the ``lti1p3platform`` package (OpenLearning's "LTI 1.3 Platform
implementation"): its Registration holds the platform's key and the tool's URLs, its
OIDCLoginAbstract builds the login initiation, its LTIAdvantageMessageLaunchAbstract
answers the OIDC auth request with the id_token it signs (with its AGS, NRPS and Deep
Linking claims), its LTI1P3PlatformConfAbstract issues access tokens after checking the
tool's client assertion and validates Deep Linking responses, and its
AssignmentsGradesService / NamesRoleProvisioningService authenticate and answer the
service calls. The library leaves to its host what a host supplies: a web framework
adapter (Flask here, as its own Django adapter does for Django), storage (line items,
scores, members, in memory here), and what to put in a launch.

Where the library skips a check the 1EdTech specs require of a platform, the harness adds
it on top (``_spec_checks`` and the notes in tests/lti/test_independent_platform.py), so a
tool that gets it wrong fails here as it would at a stricter LMS. mixgrade is not changed
for the library's sake.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import Flask, Response, jsonify, redirect
from flask import request as flask_request
from lti1p3platform import exceptions as lti_errors
from lti1p3platform.framework.templates import template as launch_form_template
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response as LtiResponse
from lti1p3platform.response import generate_next_link
from lti1p3platform.score import TScore, UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)

from tests.integration.stack import serve_in_thread
from tests.lti.platform import key_pair, parse_form, wait_for_scores

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
#: The roster page size this platform uses when the tool asks for none.
ROSTER_PAGE = 2


class _Refused(Exception):
    """A request the platform refuses, with the HTTP status an LMS would answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------- the library's host parts


class FlaskRequest(Request):
    """The library's Request, built from Flask's (as its DjangoRequest is from Django's).

    Query values are strings, but the library pages with ``page + 1``: page and limit are
    turned into ints here. A roster request without ``limit`` gets the platform's own page
    size, because the library only links a next page when the tool sent a limit.
    """

    def __init__(self, request: Any, *, default_limit: int | None = None) -> None:
        self._default_limit = default_limit
        super().__init__(request)

    def build_metadata(self, request: Any) -> TRequest:
        query: dict[str, Any] = request.args.to_dict()
        for name in ("page", "limit"):
            if name in query:
                try:
                    query[name] = int(query[name])
                except ValueError:
                    raise _Refused(f"{name} must be a number") from None
        if self._default_limit is not None:
            query.setdefault("limit", self._default_limit)
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": query,
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": request.get_json(silent=True),
        }


def _json_response(resp: LtiResponse) -> Response:
    """A library service Response as Flask's (what its Django wrap_json_resp does)."""
    if not 200 <= resp.code < 300:
        answer = jsonify({"error": resp.message})
    else:
        result = resp.result
        body = result["content"] if isinstance(result, dict) and "content" in result else result
        answer = jsonify(body)
        if isinstance(result, dict) and result.get("next"):
            answer.headers["Link"] = generate_next_link(result["next"])
    answer.status_code = resp.code
    answer.mimetype = resp.media_type
    return answer


class _ForgedRegistration(Registration):
    """Signs with a stranger's key but names the platform's real key id: a forgery."""

    def __init__(self, honest_kid: str) -> None:
        super().__init__()
        self._honest_kid = honest_kid

    def get_kid(self) -> str:
        return self._honest_kid


class _Config(LTI1P3PlatformConfAbstract):
    """The library's platform configuration for one request (it keeps per-call state)."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration  # type: ignore[return-value]


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> Any:
        return redirect(url, 302)


class _Launch(LTIAdvantageMessageLaunchAbstract):
    """Puts the prepared launch's user, course, link and services into the library's claims."""

    prepared: PreparedLaunch
    platform: IndependentPlatform

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        prepared, lms = self.prepared, self.platform
        self.set_user_data(
            prepared.user_id, prepared.roles, full_name=prepared.name, email_address=prepared.email
        )
        self.set_launch_context_claim(
            lms.context_id,
            context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            context_title="Regression 201",
            context_label="REG201",
        )
        if prepared.custom:
            self.set_custom_parameters_claim(prepared.custom)
        self.set_nrps(lms.memberships_url)
        if prepared.deep_linking:
            # The library types `data` as a dict; the DL spec makes it an opaque string.
            self.set_dl(
                f"{lms.base_url}/deep_link_return",
                title="Add a mixgrade assignment",
                accept_types=set(prepared.accept_types),
                extra_data=prepared.data,  # type: ignore[arg-type]
            )
        else:
            self.set_resource_link_claim(prepared.resource_link_id, title="Homework")
            self.set_ags(lms.lineitems_url, prepared.lineitem_url)

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Any:
        return launch_form_template.render(launch_data)


class _Gradebook(AssignmentsGradesService):
    """The library's AGS service over the platform's in-memory line items and scores."""

    platform: IndependentPlatform

    def find_lineitems(
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        **_: Any,
    ) -> TPage:
        wanted = {"resourceLinkId": resource_link_id, "resourceId": resource_id, "tag": tag}
        found = [
            dict(item)
            for item in self.platform.lineitems.values()
            if all(v is None or item.get(k) == v for k, v in wanted.items())
        ]
        return {"content": found, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        item = self.platform.lineitems.get(line_item_id)
        if item is None:
            raise lti_errors.LineItemNotFoundException(line_item_id)
        return item  # type: ignore[return-value]

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        return self.platform.add_lineitem(dict(creation_data))  # type: ignore[return-value]

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        item = self.find_lineitem(str(update_data["id"]))
        item.update({k: v for k, v in update_data.items() if k != "id"})  # type: ignore[typeddict-item]
        return item

    def delete_lineitem(self, line_item_id: str) -> None:
        self.find_lineitem(line_item_id)
        del self.platform.lineitems[line_item_id]

    def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
        self.find_lineitem(line_item_id)
        self.platform.record_score(line_item_id, dict(score))
        return UpdateScoreStatus.SUCCESS

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None
    ) -> TPage:
        rows = [s for s in self.platform.scores if s["lineitem"] == line_item_id]
        return {"content": rows, "has_next": False, "next": None}


class _Roster(NamesRoleProvisioningService):
    """The library's NRPS service over the platform's member list, paged."""

    platform: IndependentPlatform

    def get_member_data_page(
        self,
        page: int = 1,
        limit: int | None = None,
        role: str | None = None,
        since: str | None = None,
        **_: Any,
    ) -> TPage:
        members = [m for m in self.platform.members if role is None or role in m["roles"]]
        size = limit or len(members) or 1
        chunk = members[(page - 1) * size : page * size]
        return {"content": [dict(m) for m in chunk], "has_next": page * size < len(members)}

    def get_context_by_id(self) -> Context:
        return Context(id=self.platform.context_id, label="REG201", title="Regression 201")


# ------------------------------------------------------------------------- the platform


@dataclass
class PreparedLaunch:
    """One launch the platform will make: who, in what role, into what."""

    user_id: str
    roles: list[str]
    name: str = ""
    email: str | None = None
    deep_linking: bool = False
    resource_link_id: str = "link-1"
    custom: dict[str, str] | None = None
    lineitem_url: str | None = None
    #: Deep Linking: what the platform accepts, and the opaque data it expects back.
    accept_types: tuple[str, ...] = ("ltiResourceLink",)
    data: str = ""
    deployment_id: str | None = None
    #: Sign with a key the platform does not publish: "unknown-kid" names its own key id,
    #: "platform-kid" claims the platform's real key id (a forgery).
    stranger_key: str | None = None


@dataclass
class IndependentPlatform:
    """The library's platform with its own keys; tests read what it received."""

    client_id: str = "independent-client"
    deployment_id: str = "independent-deployment"
    context_id: str = "reg-201"
    tool_base_url: str = ""
    base_url: str = ""
    members: list[dict[str, Any]] = field(default_factory=list)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    placements: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    auth_requests: list[dict[str, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    prepared: dict[str, PreparedLaunch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.private_pem, self.public_pem = key_pair()
        self.stranger_private_pem, _ = key_pair()
        self._lock = threading.Lock()
        self._assertion_ids: set[str] = set()
        self.app = self._make_app()

    # ------------------------------------------------------------- URLs and registration

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def lineitems_url(self) -> str:
        return f"{self.base_url}/contexts/{self.context_id}/lineitems"

    @property
    def memberships_url(self) -> str:
        return f"{self.base_url}/contexts/{self.context_id}/memberships"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def lineitem_url(self, item_id: str) -> str:
        return f"{self.lineitems_url}/{item_id}"

    def for_mixgrade(self) -> dict[str, Any]:
        """What an admin enters in mixgrade (service/lti/platforms.py ``register``)."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": f"{self.base_url}/auth",
            "auth_token_url": self.token_url,
            "jwks_url": f"{self.base_url}/jwks",
            "deployment_ids": [self.deployment_id],
        }

    def registration(self, prepared: PreparedLaunch | None = None) -> Registration:
        """The library's Registration: this platform's key and the tool's URLs."""
        forged = prepared.stranger_key if prepared else None
        honest = Registration().set_platform_private_key(self.private_pem)
        registration = (
            _ForgedRegistration(honest.get_kid()) if forged == "platform-kid" else Registration()
        )
        tool = self.tool_base_url
        deployment = (prepared.deployment_id if prepared else None) or self.deployment_id
        return (
            registration.set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(deployment)
            .set_oidc_login_url(f"{tool}/lti/login")
            .set_launch_url(f"{tool}/lti/launch")
            .set_deeplink_launch_url(f"{tool}/lti/launch")
            .set_tool_key_set_url(f"{tool}/lti/jwks")
            .set_platform_public_key(self.public_pem)
            .set_platform_private_key(self.stranger_private_pem if forged else self.private_pem)
        )

    def config(self, prepared: PreparedLaunch | None = None) -> _Config:
        """A fresh library config: it caches the tool's JWKS forever once fetched."""
        return _Config(registration=self.registration(prepared))

    # ------------------------------------------------------------------ what tests call

    def prepare(self, user_id: str, roles: list[str], **details: Any) -> str:
        """A launch to make; returns the platform URL a browser opens to start it."""
        hint = secrets.token_urlsafe(8)
        details.setdefault("data", f"opaque-data-{hint}")
        self.prepared[hint] = PreparedLaunch(user_id=user_id, roles=roles, **details)
        return f"{self.base_url}/start/{hint}"

    def launch(self, start_url: str, browser: requests.Session | None = None):
        """A browser through platform → /lti/login → platform auth → /lti/launch.

        Returns the tool's answer to the launch (not followed) and the posted fields, or
        the tool's answer to /lti/login if it refused there (and no fields).
        """
        browser = browser or requests.Session()
        refused, action, fields = self.launch_form(start_url, browser)
        if refused is not None:
            return refused, {}
        return browser.post(action, data=fields, allow_redirects=False, timeout=30), fields

    def launch_form(self, start_url: str, browser: requests.Session):
        """The launch up to the platform's auto-posting form: (None, action, fields), or
        (the tool's refusal at /lti/login, "", {})."""
        to_tool = browser.get(start_url, allow_redirects=False, timeout=10)
        assert to_tool.status_code == 302, to_tool.text
        assert to_tool.headers["Location"].startswith(f"{self.tool_base_url}/lti/login?")
        to_platform = browser.get(to_tool.headers["Location"], allow_redirects=False, timeout=10)
        if to_platform.status_code != 302:
            return to_platform, "", {}
        assert to_platform.headers["Location"].startswith(f"{self.base_url}/auth?")
        form = browser.get(to_platform.headers["Location"], timeout=10)
        assert form.status_code == 200, form.text
        action, fields = parse_form(form.text)
        return None, action, fields

    def add_lineitem(self, data: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item_id = str(len(self.lineitems) + 1)
            item = {**data, "id": self.lineitem_url(item_id)}
            self.lineitems[item_id] = item
        return item

    def record_score(self, line_item_id: str, score: dict[str, Any]) -> None:
        with self._lock:
            self.scores.append({"lineitem": line_item_id, **score})

    def wait_for_scores(self, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        return wait_for_scores(
            self.scores, count, timeout, lambda: f"; it refused: {self.refusals}"
        )

    # ------------------------------------------------------------------------ serving

    def start(self) -> IndependentPlatform:
        self._served = serve_in_thread(self.app)
        self.base_url = f"http://127.0.0.1:{self._served.port}"
        return self

    def stop(self) -> None:
        self._served.stop()

    def _refuse(self, refused: _Refused) -> Response:
        self.refusals.append(str(refused))
        answer = jsonify({"error": str(refused)})
        answer.status_code = refused.status
        return answer

    def _make_app(self) -> Flask:
        app = Flask("independent_platform")

        @app.errorhandler(_Refused)
        def refused(error: _Refused):  # type: ignore[no-untyped-def]
            return self._refuse(error)

        @app.get("/jwks")
        def jwks():  # type: ignore[no-untyped-def]
            config = self.config()
            return jsonify(config.get_jwks())

        @app.get("/start/<hint>")
        def start(hint: str):  # type: ignore[no-untyped-def]
            prepared = self.prepared[hint]
            login = _Login(FlaskRequest(flask_request), self.config(prepared))
            login.set_lti_message_hint(hint=hint)
            if prepared.deep_linking:
                login.set_deeplinking_launch_url()
            return login.initiate_login(prepared.user_id)

        @app.route("/auth", methods=["GET", "POST"])
        def auth():  # type: ignore[no-untyped-def]
            params = {**flask_request.args.to_dict(), **flask_request.form.to_dict()}
            self.auth_requests.append(params)
            prepared = self.prepared.get(params.get("lti_message_hint", ""))
            if prepared is None:
                raise _Refused("unknown lti_message_hint")
            self._check_auth_request(params, prepared)
            launch = _Launch(FlaskRequest(flask_request), self.config(prepared))
            launch.prepared, launch.platform = prepared, self
            try:
                return launch.lti_launch()
            except lti_errors.PreflightRequestValidationException:
                raise _Refused("invalid authentication request") from None

        @app.post("/token")
        def token():  # type: ignore[no-untyped-def]
            form = flask_request.form.to_dict()
            try:
                answer = self.config().get_access_token(form)
            except (
                lti_errors.MissingRequiredClaim,
                lti_errors.UnsupportedGrantType,
                lti_errors.LtiException,
                jwt.PyJWTError,
            ) as error:
                raise _Refused(f"invalid_client: {type(error).__name__} {error}", 401) from None
            self._check_client_assertion(form["client_assertion"])
            self.token_requests.append({"asked": form["scope"], "granted": answer["scope"]})
            return jsonify(answer)

        def gradebook(line_item: str | None = None) -> _Gradebook:
            service = _Gradebook(
                FlaskRequest(flask_request),
                self.config(),
                self.lineitems_url,
                self.lineitem_url(line_item) if line_item else None,
            )
            service.platform = self
            return service

        def answer(service: Any, handler: Any, scope: str | None = None, **kwargs: Any):
            """Run a library handler; a bad bearer token is a 401, not the library's 500."""
            self._require_scope(service, scope)
            try:
                return _json_response(service.handle_resp(handler, **kwargs))
            except (lti_errors.LtiException, jwt.PyJWTError) as error:
                raise _Refused(f"invalid token: {error}", 401) from None

        @app.route("/contexts/<context_id>/lineitems", methods=["GET", "POST"])
        def lineitems(context_id: str):  # type: ignore[no-untyped-def]
            service = gradebook()
            if flask_request.method == "POST":
                return answer(service, service.handle_create_lineitem)
            return answer(service, service.handle_get_lineitems)

        @app.route("/contexts/<context_id>/lineitems/<item>", methods=["GET", "PUT", "DELETE"])
        def lineitem(context_id: str, item: str):  # type: ignore[no-untyped-def]
            service = gradebook(item)
            handler = {
                "GET": service.handle_get_lineitem,
                "PUT": service.handle_update_lineitem,
                "DELETE": service.handle_delete_lineitem,
            }[flask_request.method]
            return answer(service, handler, line_item_id=item)

        @app.post("/contexts/<context_id>/lineitems/<item>/scores")
        def scores(context_id: str, item: str):  # type: ignore[no-untyped-def]
            service = gradebook(item)
            self._require_scope(service, SCORE_SCOPE)
            self._check_score(flask_request.mimetype, flask_request.get_json(silent=True))
            return answer(service, service.handle_update_score, line_item_id=item)

        @app.get("/contexts/<context_id>/lineitems/<item>/results")
        def results(context_id: str, item: str):  # type: ignore[no-untyped-def]
            service = gradebook(item)
            return answer(service, service.handle_get_results, line_item_id=item)

        @app.get("/contexts/<context_id>/memberships")
        def memberships(context_id: str):  # type: ignore[no-untyped-def]
            service = _Roster(
                FlaskRequest(flask_request, default_limit=ROSTER_PAGE),
                self.config(),
                self.memberships_url,
            )
            service.platform = self
            return answer(service, service.handle_get_members, ROSTER_SCOPE)

        @app.post("/deep_link_return")
        def deep_link_return():  # type: ignore[no-untyped-def]
            form = flask_request.form.to_dict()
            try:
                unverified = jwt.decode(form.get("JWT", ""), options={"verify_signature": False})
            except jwt.PyJWTError as error:
                raise _Refused(f"deep linking response refused: {error}") from None
            prepared = self._deep_linking_request(unverified)
            # The library checks item types against one platform-wide list: this request's.
            config = self.config(prepared).set_accepted_deeplinking_types(
                list(prepared.accept_types)
            )
            try:
                items = config.validate_deeplinking_resp(form)
            except (lti_errors.LtiException, lti_errors.LtiDeepLinkingResponseException) as error:
                raise _Refused(f"deep linking response refused: {error}") from None
            except jwt.PyJWTError as error:
                raise _Refused(f"deep linking response refused: {error}", 401) from None
            self._check_deep_linking_response(unverified, prepared)
            placed = []
            for number, item in enumerate(items, 1):
                # As an LMS does: each placed link gets an id, and the line item it asked for.
                link_id = f"placed-{len(self.placements) + 1}-{number}"
                link: dict[str, Any] = {"item": item, "resource_link_id": link_id, "lineitem": None}
                if item.get("type") == "ltiResourceLink" and item.get("lineItem"):
                    wanted = {**item["lineItem"], "resourceLinkId": link_id}
                    link["lineitem"] = self.add_lineitem(wanted)["id"]
                placed.append(link)
            self.placements.append({"claims": unverified, "links": placed})
            return "placed"

        return app

    # -------------------------------------------------- the spec checks the library skips

    def _check_auth_request(self, params: dict[str, str], prepared: PreparedLaunch) -> None:
        """OIDC auth request (LTI 1.3 core §5.1.1.2, Security Framework §5.1.1.3).

        The library only checks that nonce, state and redirect_uri are present and that the
        client_id is its own; it does not check the fixed parameters, that login_hint is
        the user it sent, nor that redirect_uri is a registered one (its launch form then
        posts the id_token wherever redirect_uri points, unescaped).
        """
        fixed = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
        }
        for name, value in fixed.items():
            if params.get(name) != value:
                raise _Refused(f"{name} must be {value!r}")
        if params.get("login_hint") != prepared.user_id:
            raise _Refused("login_hint is not the user this login was started for")
        if params.get("redirect_uri") != f"{self.tool_base_url}/lti/launch":
            raise _Refused("redirect_uri is not registered for this tool")

    def _check_client_assertion(self, assertion: str) -> None:
        """The client assertion (Security Framework §4.1.1; RFC 7523 §3), after the library.

        The library verifies the signature against the tool's JWKS only (``verify_aud`` is
        off): not that iss and sub are the client id, not that aud is this token endpoint,
        not that exp, iat and jti are there, and not that the jti is fresh.
        """
        claims = jwt.decode(assertion, options={"verify_signature": False})
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise _Refused("invalid_client: iss and sub must be the client id", 401)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.token_url not in audiences:
            raise _Refused("invalid_client: aud must be the token endpoint", 401)
        missing = [c for c in ("exp", "iat", "jti") if c not in claims]
        if missing:
            raise _Refused(f"invalid_client: the assertion lacks {missing}", 401)
        if claims["exp"] < time.time():
            raise _Refused("invalid_client: the assertion has expired", 401)
        with self._lock:
            if claims["jti"] in self._assertion_ids:
                raise _Refused("invalid_client: the assertion's jti was used before", 401)
            self._assertion_ids.add(claims["jti"])

    def _require_scope(self, service: Any, scope: str | None) -> None:
        """A call needs its own scope: the library accepts any of the service's scopes."""
        if scope is None:
            return
        header = flask_request.headers.get("Authorization", "").split()
        if len(header) != 2 or header[0].lower() != "bearer":
            return  # the library's authenticate answers 401 for these
        try:
            allowed = service.platform_config.validate_token(header[1], [scope])
        except (lti_errors.LtiException, jwt.PyJWTError) as error:
            raise _Refused(f"invalid token: {error}", 401) from None
        if not allowed:
            raise _Refused(f"the token was not granted {scope}", 403)

    def _check_score(self, mimetype: str, score: Any) -> None:
        """AGS score publish (AGS 2.0 §3.4): the library has a TODO where this goes."""
        if mimetype != SCORE_TYPE:
            raise _Refused(f"a score must be sent as {SCORE_TYPE}, not {mimetype}", 415)
        if not isinstance(score, dict):
            raise _Refused("a score must be a JSON object")
        missing = [
            k
            for k in ("userId", "activityProgress", "gradingProgress", "timestamp")
            if k not in score
        ]
        if missing:
            raise _Refused(f"the score lacks {missing}")
        if "scoreGiven" in score and "scoreMaximum" not in score:
            raise _Refused("scoreGiven needs scoreMaximum")

    def _deep_linking_request(self, claims: dict[str, Any]) -> PreparedLaunch:
        """The Deep Linking launch a response answers, known by the data it must echo."""
        data = claims.get(DL + "data")
        for prepared in self.prepared.values():
            if prepared.deep_linking and prepared.data == data:
                return prepared
        raise _Refused("the response must return the request's data unchanged")

    def _check_deep_linking_response(
        self, claims: dict[str, Any], prepared: PreparedLaunch
    ) -> None:
        """Deep Linking response (DL 2.0 §4.2), after the library's signature check.

        The library checks the signature, the message type and that each item's type is
        in its one platform-wide list (set to the request's accept_types before it runs);
        not the aud, iss, deployment, nonce or the echoed data (``_deep_linking_request``).
        """
        if claims.get("iss") != self.client_id:
            raise _Refused("the response's iss must be the tool's client id")
        audience = claims.get("aud")
        if self.issuer not in (audience if isinstance(audience, list) else [audience]):
            raise _Refused("the response's aud must be the platform's issuer")
        if claims.get(LTI + "deployment_id") != (prepared.deployment_id or self.deployment_id):
            raise _Refused("the response's deployment_id is not the request's")
        if claims.get(LTI + "version") != "1.3.0":
            raise _Refused("the response's LTI version must be 1.3.0")
        for name in ("nonce", "iat", "exp"):
            if name not in claims:
                raise _Refused(f"the response lacks {name}")
