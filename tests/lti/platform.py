"""A simulated LTI 1.3 platform (an LMS) over real HTTP on 127.0.0.1, run in a thread.

It has its own RSA key and JWKS, answers the OIDC auth request with a signed id_token
(which a test can spoil on purpose: another key, expired, wrong audience…), issues
OAuth2 tokens for the AGS/NRPS scopes after checking the tool's signed client assertion
against the tool's JWKS, records the scores it receives and the Deep Linking responses,
serves a paged roster and a line-item service (GET with the spec's filters, POST).
For LTI Dynamic Registration it serves its OpenID configuration and a registration
endpoint that checks the Bearer token and the tool's registration, then launches
with the client id and deployment it handed out. A test makes a route answer like
a broken LMS through ``answers``.

For browser tests it also shows a course page that frames the tool next to a storage
frame answering the 1EdTech client-side OIDC storage messages (``lti.put_data``,
``lti.get_data``), as Canvas does for tools whose cookies the browser blocks.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, request, url_for
from jwt.algorithms import RSAAlgorithm

from tests.integration.stack import Stack, mixgrade, serve_in_thread

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
MESSAGE_TYPES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}


def key_pair() -> tuple[str, str]:
    """A new RSA key as (private, public) PEM strings (the form lti1p3platform takes)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _rsa() -> tuple[str, dict[str, Any]]:
    """A new key's private PEM and its public JWK, as this platform publishes it."""
    private, public = key_pair()
    jwk = json.loads(RSAAlgorithm.to_jwk(serialization.load_pem_public_key(public.encode())))
    jwk.update(kid=uuid.uuid4().hex, alg="RS256", use="sig")
    return private, jwk


@dataclass
class PreparedLaunch:
    """Claims the platform signs for one login_hint, and how to spoil them."""

    claims: dict[str, Any]
    sign_with_stranger_key: bool = False
    exp_offset: int = 300
    audience: str | None = None


@dataclass
class Platform:
    client_id: str = "mixgrade-client"
    deployment_id: str = "deployment-1"
    context_id: str = "course-101"
    #: The host it serves on: "localhost" makes it another site than a tool on 127.0.0.1.
    host: str = "127.0.0.1"
    base_url: str = ""
    #: The auth answer posts itself (a script, as an LMS's does) instead of waiting.
    auto_post: bool = False
    tool_jwks_url: str = ""
    #: Score posts to answer 503 before accepting (an LMS that is down for a while).
    fail_scores: int = 0
    scores: list[dict[str, Any]] = field(default_factory=list)
    deep_link_responses: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    prepared: dict[str, PreparedLaunch] = field(default_factory=dict)
    #: Dynamic Registration: the token handed to the tool, the registrations received,
    #: changes to the OpenID configuration (a None value removes the key), a body served
    #: instead of it, and a (status, body) answered instead of registering.
    registration_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    registrations: list[dict[str, Any]] = field(default_factory=list)
    openid_changes: dict[str, Any] = field(default_factory=dict)
    openid_body: str | None = None
    refuse_registration: tuple[int, str] | None = None
    #: Registers the tool but leaves the deployment id out of its answer.
    omit_deployment_id: bool = False
    #: Line items of the course, as the line-item service returns them (id = their URL).
    lineitems: list[dict[str, Any]] = field(default_factory=list)
    #: Line items created through the service (POSTs received), in order.
    lineitem_posts: list[dict[str, Any]] = field(default_factory=list)
    #: The expires_in of the access tokens it issues.
    token_lifetime: int = 3600
    #: Seconds the line-item service takes to answer (to widen a race between workers).
    lineitem_delay: float = 0.0
    #: Route name ("token", "members", "lineitems", "lineitem_post", "score") → what it
    #: answers instead (a Flask response value); a callable returning None answers normally.
    answers: dict[str, Callable[[], Any]] = field(default_factory=dict)
    _tokens: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.private_pem, self.jwk = _rsa()
        self.stranger_pem, self.stranger_jwk = _rsa()
        self.app = self._make_app()
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- what tests call

    @property
    def issuer(self) -> str:
        return self.base_url

    def lineitem_url(self, number: int) -> str:
        return f"{self.base_url}/contexts/{self.context_id}/lineitems/{number}"

    @property
    def lineitems_url(self) -> str:
        return f"{self.base_url}/contexts/{self.context_id}/lineitems"

    def add_lineitem(self, number: int, **fields: Any) -> str:
        """A line item the LMS has already (made at Deep Linking, or by hand); its URL."""
        self.lineitems.append({"id": self.lineitem_url(number), **fields})
        return self.lineitem_url(number)

    def revoke_tokens(self) -> None:
        """Forget every access token issued (a platform restart): they now get 401."""
        self._tokens.clear()

    def registration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": f"{self.base_url}/auth",
            "auth_token_url": f"{self.base_url}/token",
            "jwks_url": f"{self.base_url}/jwks",
            "deployment_ids": [self.deployment_id],
        }

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def registration_start(self, tool_base: str) -> str:
        """The URL the platform opens when its admin pastes the tool's registration URL."""
        query = {
            "openid_configuration": self.openid_configuration_url,
            "registration_token": self.registration_token,
        }
        return f"{tool_base}/lti/register?{urlencode(query)}"

    def admin_page(self, tool_base: str) -> str:
        """The platform's page from which its admin registers the tool."""
        return f"{self.base_url}/admin/add-tool?" + urlencode(
            {"registration_url": self.registration_start(tool_base)}
        )

    def openid_configuration(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base_url}/auth",
            "token_endpoint": f"{self.base_url}/token",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": f"{self.base_url}/jwks",
            "registration_endpoint": f"{self.base_url}/register",
            "scopes_supported": ["openid", SCORE_SCOPE, LINEITEM_SCOPE, ROSTER_SCOPE],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "simulated-lms",
                "version": "1.0",
                "messages_supported": [{"type": t} for t in sorted(MESSAGE_TYPES)],
            },
        }
        for key, value in self.openid_changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    def prepare(
        self,
        *,
        sub: str,
        roles: list[str] | None,
        email: str | None = None,
        name: str = "",
        message_type: str = "LtiResourceLinkRequest",
        resource_link_id: str = "link-1",
        custom: dict[str, str] | None = None,
        lineitem: str | None = None,
        deployment_id: str | None = None,
        ags_scope: list[str] | None = None,
        **spoil: Any,
    ) -> str:
        """Claims for the next launch as ``sub``; returns the login_hint to start it with."""
        claims: dict[str, Any] = {
            "sub": sub,
            "name": name,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": deployment_id or self.deployment_id,
            LTI + "context": {"id": self.context_id, "label": "STAT101", "title": "Models 101"},
            LTI + "target_link_uri": "",
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.base_url}/contexts/{self.context_id}/members",
                "service_versions": ["2.0"],
            },
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [SCORE_SCOPE, LINEITEM_SCOPE] if ags_scope is None else ags_scope,
                "lineitems": f"{self.base_url}/contexts/{self.context_id}/lineitems",
                **({"lineitem": lineitem} if lineitem else {}),
            },
        }
        if email:
            claims["email"] = email
        if roles is not None:
            claims[LTI + "roles"] = roles
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": resource_link_id, "title": "Homework"}
        else:
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": f"{self.base_url}/deep_link_return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["window", "iframe"],
                "accept_lineitem": True,
                "data": "opaque-platform-data",
            }
        if custom:
            claims[LTI + "custom"] = custom
        hint = secrets.token_urlsafe(8)
        self.prepared[hint] = PreparedLaunch(claims=claims, **spoil)
        return hint

    def login_params(
        self, tool_base: str, login_hint: str, storage_target: str | None = None
    ) -> dict[str, str]:
        """What the platform sends to the tool's /lti/login to start an OIDC launch."""
        params = {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": f"{tool_base}/lti/launch",
            "lti_message_hint": "msg-" + login_hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        if storage_target:
            params["lti_storage_target"] = storage_target
        return params

    def authorize(
        self, tool_base: str, login_hint: str, browser: requests.Session
    ) -> tuple[str, dict[str, str]]:
        """Login → platform auth in ``browser`` (keeping the tool's cookies in its jar, as a
        browser does); return the form the platform would post: action, id_token, state."""
        start = browser.get(
            f"{tool_base}/lti/login",
            params=self.login_params(tool_base, login_hint),
            allow_redirects=False,
            timeout=10,
        )
        assert start.status_code == 302, start.text
        assert start.headers["Location"].startswith(f"{self.base_url}/auth?")
        form = browser.get(start.headers["Location"], timeout=10)
        assert form.status_code == 200, form.text
        return parse_form(form.text)

    def launch(self, tool_base: str, login_hint: str, browser: requests.Session | None = None):
        """Drive a browser through login → platform auth → launch; return the tool's answer."""
        browser = browser or requests.Session()
        action, fields = self.authorize(tool_base, login_hint, browser)
        return browser.post(action, data=fields, allow_redirects=False, timeout=30), fields

    def resend(self, browser: requests.Session, action: str, fields: dict[str, str]):
        return browser.post(action, data=fields, allow_redirects=False, timeout=30)

    def wait_for_scores(self, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        return wait_for_scores(self.scores, count, timeout)

    # ------------------------------------------------------------------------ serving

    def start(self) -> Platform:
        self._served = serve_in_thread(self.app)
        self.base_url = f"http://{self.host}:{self._served.port}"
        return self

    def stop(self) -> None:
        self._served.stop()

    def _make_app(self) -> Flask:
        app = Flask("simulated_platform")

        def spoiled(route: str) -> Any:
            answer = self.answers.get(route)
            return answer() if answer is not None else None

        @app.get("/jwks")
        def jwks():  # type: ignore[no-untyped-def]
            return jsonify({"keys": [self.jwk]})

        @app.get("/auth")
        def auth():  # type: ignore[no-untyped-def]
            args = request.args
            assert args["scope"] == "openid" and args["response_type"] == "id_token"
            assert args["response_mode"] == "form_post" and args["prompt"] == "none"
            assert args["client_id"] == self.client_id
            assert args["lti_message_hint"] == "msg-" + args["login_hint"]
            prepared = self.prepared[args["login_hint"]]
            now = int(time.time())
            claims = {
                **prepared.claims,
                "iss": self.issuer,
                "aud": prepared.audience or self.client_id,
                "azp": prepared.audience or self.client_id,
                "nonce": args["nonce"],
                "iat": now + min(0, prepared.exp_offset - 300),
                "exp": now + prepared.exp_offset,
            }
            claims[LTI + "target_link_uri"] = args["redirect_uri"]
            if prepared.sign_with_stranger_key:
                pem, kid = self.stranger_pem, self.jwk["kid"]  # claims our kid: a forgery
            else:
                pem, kid = self.private_pem, self.jwk["kid"]
            token = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
            fields = {"id_token": token, "state": args["state"]}
            return _auto_post(args["redirect_uri"], fields, submit=self.auto_post)

        @app.get("/course")
        def course_page():  # type: ignore[no-untyped-def]
            """The LMS page: the tool's frame (opened at ``tool``) and the storage frame."""
            tool = request.args["tool"]
            assert tool.startswith("http"), tool
            # The tool's frame opens once the storage frame listens, as in an LMS page
            # that loaded before the tool's.
            return (
                "<!doctype html><title>Course · LMS</title><h1>Models 101</h1>"
                f'<iframe name="{STORAGE_FRAME}" src="{url_for("storage_frame")}" hidden></iframe>'
                '<iframe name="tool" width="900" height="600"></iframe><script>'
                f"var tool = {json.dumps(tool)};"
                f'document.getElementsByName("{STORAGE_FRAME}")[0].onload = function () {{'
                'document.getElementsByName("tool")[0].src = tool; };</script>'
            )

        @app.get("/storage-frame")
        def storage_frame():  # type: ignore[no-untyped-def]
            return STORAGE_FRAME_PAGE

        @app.get("/forged")
        def forged():  # type: ignore[no-untyped-def]
            """Another site's page that posts a form it was given at once (a CSRF attempt)."""
            fields = json.loads(request.args["fields"])
            return _auto_post(request.args["action"], fields, submit=True)

        @app.post("/token")
        def token():  # type: ignore[no-untyped-def]
            if (answer := spoiled("token")) is not None:
                return answer
            form = request.form
            assert form["grant_type"] == "client_credentials"
            assert (
                form["client_assertion_type"]
                == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            )
            key = jwt.PyJWKClient(self.tool_jwks_url).get_signing_key_from_jwt(
                form["client_assertion"]
            )
            claims = jwt.decode(
                form["client_assertion"],
                key.key,
                algorithms=["RS256"],
                audience=f"{self.base_url}/token",
                options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]},
            )
            if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
                abort(401)
            scopes = set(form.get("scope", "").split())
            self.token_requests.append({"scopes": sorted(scopes)})
            access = secrets.token_urlsafe(16)
            self._tokens[access] = scopes
            return jsonify(
                access_token=access,
                token_type="Bearer",
                expires_in=self.token_lifetime,
                scope=" ".join(scopes),
            )

        def require(*scopes: str) -> None:
            """The bearer token must carry one of ``scopes``."""
            header = request.headers.get("Authorization", "")
            granted = self._tokens.get(header[7:], set()) if header.startswith("Bearer ") else set()
            if not granted & set(scopes):
                abort(401)

        @app.post("/contexts/<context_id>/lineitems/<int:number>/scores")
        def score(context_id: str, number: int):  # type: ignore[no-untyped-def]
            require(SCORE_SCOPE)
            if (answer := spoiled("score")) is not None:
                return answer
            assert request.mimetype == "application/vnd.ims.lis.v1.score+json"
            with self._lock:
                if self.fail_scores > 0:
                    self.fail_scores -= 1
                    return "the LMS is down for maintenance", 503
                self.scores.append({"lineitem": number, **request.get_json(force=True)})
            return "", 204

        @app.get("/contexts/<context_id>/members")
        def members(context_id: str):  # type: ignore[no-untyped-def]
            require(ROSTER_SCOPE)
            if (answer := spoiled("members")) is not None:
                return answer
            page = int(request.args.get("page", "1"))
            chunk = self.members[(page - 1) * 2 : page * 2]
            response = jsonify({"id": request.url, "context": {"id": context_id}, "members": chunk})
            response.mimetype = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
            if page * 2 < len(self.members):
                response.headers["Link"] = f'<{request.base_url}?page={page + 1}>; rel="next"'
            return response

        @app.get("/.well-known/openid-configuration")
        def openid_configuration():  # type: ignore[no-untyped-def]
            if self.openid_body is not None:
                return self.openid_body, 200, {"Content-Type": "text/html"}
            return jsonify(self.openid_configuration())

        @app.get("/admin/add-tool")
        def add_tool():  # type: ignore[no-untyped-def]
            """The LMS admin's page: opens the tool's registration in a window and waits
            for its close message, as Moodle and Canvas do (here in a popup, not a frame)."""
            start = json.dumps(request.args["registration_url"])
            return f"""<!doctype html><title>Add a tool</title>
<button id="open">Register the tool</button><p id="status">waiting</p>
<script>
document.getElementById("open").onclick = function () {{ window.open({start}, "tool"); }};
window.addEventListener("message", function (event) {{
  if (event.data && event.data.subject === "org.imsglobal.lti.close") {{
    document.getElementById("status").textContent = "closed by " + event.origin;
  }}
}});
</script>"""

        @app.post("/register")
        def register():  # type: ignore[no-untyped-def]
            if request.headers.get("Authorization") != f"Bearer {self.registration_token}":
                return jsonify(error="invalid_token"), 401
            body = request.get_json(silent=True)
            problems = registration_problems(body)
            if problems:
                return jsonify(error="invalid_client_metadata", error_description=problems), 400
            if self.refuse_registration is not None:
                status, text = self.refuse_registration
                return text, status
            with self._lock:
                self.registrations.append(body)
                self.client_id = "dyn-" + secrets.token_hex(6)
                self.deployment_id = "dyn-deployment-" + secrets.token_hex(4)
                self.tool_jwks_url = body["jwks_uri"]
            tool = dict(body[TOOL_CONFIGURATION])
            if not self.omit_deployment_id:
                tool["deployment_id"] = self.deployment_id
            return jsonify({**body, "client_id": self.client_id, TOOL_CONFIGURATION: tool})

        @app.get("/contexts/<context_id>/lineitems")
        def lineitems(context_id: str):  # type: ignore[no-untyped-def]
            """AGS 2.0 line-item container, filtered as the spec's query parameters say."""
            require(LINEITEM_SCOPE, LINEITEM_READ_SCOPE)
            time.sleep(self.lineitem_delay)
            if (answer := spoiled("lineitems")) is not None:
                return answer
            filters = {"resource_link_id": "resourceLinkId", "resource_id": "resourceId"}
            with self._lock:
                found = [
                    item
                    for item in self.lineitems
                    if all(
                        item.get(key) == request.args[arg]
                        for arg, key in filters.items()
                        if arg in request.args
                    )
                    and ("tag" not in request.args or item.get("tag") == request.args["tag"])
                ]
            response = jsonify(found)
            response.mimetype = "application/vnd.ims.lis.v2.lineitemcontainer+json"
            return response

        @app.post("/contexts/<context_id>/lineitems")
        def create_lineitem(context_id: str):  # type: ignore[no-untyped-def]
            require(LINEITEM_SCOPE)
            time.sleep(self.lineitem_delay)
            if (answer := spoiled("lineitem_post")) is not None:
                return answer
            assert request.mimetype == "application/vnd.ims.lis.v2.lineitem+json"
            body = request.get_json(force=True)
            if not isinstance(body.get("scoreMaximum"), int | float) or not body.get("label"):
                return "a line item needs a scoreMaximum and a label", 400
            with self._lock:
                self.lineitem_posts.append(body)
                item = {**body, "id": self.lineitem_url(100 + len(self.lineitem_posts))}
                self.lineitems.append(item)
            response = jsonify(item)
            response.status_code = 201
            response.mimetype = "application/vnd.ims.lis.v2.lineitem+json"
            return response

        @app.post("/deep_link_return")
        def deep_link_return():  # type: ignore[no-untyped-def]
            token = request.form["JWT"]
            key = jwt.PyJWKClient(self.tool_jwks_url).get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=self.issuer)
            assert claims["iss"] == self.client_id
            self.deep_link_responses.append(claims)
            return "placed"

        return app


def wait_for_scores(
    scores: list[dict[str, Any]],
    count: int,
    timeout: float,
    explain: Callable[[], str] = lambda: "",
) -> list[dict[str, Any]]:
    """``scores`` (a platform's received ones) once there are ``count``: the tool's worker
    sends them in the background. ``explain`` adds what the platform saw to a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(scores) >= count:
            return scores
        time.sleep(0.1)
    raise AssertionError(f"the platform received {len(scores)} scores, wanted {count}{explain()}")


def register_with_cli(stack: Stack, lms: Platform, *extra_args: str) -> subprocess.CompletedProcess:
    """Register ``lms`` with the stack's tool as an admin does, by `mixgrade lti register`
    (named "Simulated LMS", with ``extra_args`` added); its answer, once it succeeded."""
    registration = lms.registration()
    result = mixgrade(
        stack.env,
        "lti", "register",
        "--issuer", registration["issuer"],
        "--client-id", registration["client_id"],
        "--login-url", registration["auth_login_url"],
        "--token-url", registration["auth_token_url"],
        "--jwks-url", registration["jwks_url"],
        "--deployment", lms.deployment_id,
        "--name", "Simulated LMS",
        *extra_args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def registration_problems(body: Any) -> list[str]:
    """What is wrong with a tool's client registration (empty when it is what we expect)."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = []
    expected = {
        "application_type": "web",
        "response_types": ["id_token"],
        "token_endpoint_auth_method": "private_key_jwt",
    }
    for key, value in expected.items():
        if body.get(key) != value:
            problems.append(f"{key} must be {value!r}, got {body.get(key)!r}")
    if sorted(body.get("grant_types") or []) != ["client_credentials", "implicit"]:
        problems.append("grant_types must be implicit and client_credentials")
    redirects = body.get("redirect_uris") or []
    if not str(body.get("initiate_login_uri", "")).endswith("/lti/login"):
        problems.append("initiate_login_uri must be the tool's /lti/login")
    if not str(body.get("jwks_uri", "")).endswith("/lti/jwks"):
        problems.append("jwks_uri must be the tool's /lti/jwks")
    scopes = str(body.get("scope", "")).split()
    for scope in (SCORE_SCOPE, LINEITEM_SCOPE, ROSTER_SCOPE):
        if scope not in scopes:
            problems.append(f"scope lacks {scope}")
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        return [*problems, f"no {TOOL_CONFIGURATION} object"]
    if not tool.get("domain") or tool.get("target_link_uri") not in redirects:
        problems.append("the tool configuration needs a domain and a registered target_link_uri")
    if not {"iss", "sub"} <= set(tool.get("claims") or []):
        problems.append("the tool configuration's claims must include iss and sub")
    messages = tool.get("messages") or []
    if {m.get("type") for m in messages} != MESSAGE_TYPES:
        problems.append(f"messages must be {sorted(MESSAGE_TYPES)}")
    if any(m.get("target_link_uri") not in redirects for m in messages):
        problems.append("each message's target_link_uri must be a registered redirect URI")
    return problems


#: The storage frame's window name, which the LMS sends as ``lti_storage_target``.
STORAGE_FRAME = "post_message_forwarding"

#: The platform side of the client-side OIDC storage: values are kept per sending origin
#: (a tool reads only what it stored), and every answer goes back to the sender's origin.
#: ``window.ltiStorageLog`` lets a test see which messages arrived.
STORAGE_FRAME_PAGE = """<!doctype html><title>storage</title><script>
window.ltiStorageLog = [];
var stored = {};
window.addEventListener("message", function (event) {
  var data = event.data;
  if (!data || typeof data !== "object" || typeof data.subject !== "string") { return; }
  window.ltiStorageLog.push({subject: data.subject, key: data.key, origin: event.origin});
  var mine = stored[event.origin] = stored[event.origin] || {};
  var answer = {subject: data.subject + ".response", message_id: data.message_id, key: data.key};
  if (data.subject === "lti.put_data") {
    mine[data.key] = data.value;
    answer.value = data.value;
  } else if (data.subject === "lti.get_data") {
    if (!(data.key in mine)) {
      answer.error = {code: "bad_request", message: "no value stored under this key"};
    } else {
      answer.value = mine[data.key];
    }
  } else if (data.subject === "lti.capabilities") {
    answer.supported_messages = [
      {subject: "lti.put_data", frame: FRAME}, {subject: "lti.get_data", frame: FRAME}];
  } else { return; }
  event.source.postMessage(answer, event.origin);
});
</script>""".replace("FRAME", json.dumps(STORAGE_FRAME))


def _auto_post(action: str, fields: dict[str, str], submit: bool = False) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    script = "<script>document.forms[0].submit()</script>" if submit else ""
    return f'<form method="post" action="{html.escape(action)}">{inputs}</form>{script}'


def parse_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form on a page (what a browser posts)."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action, page[:500]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}
