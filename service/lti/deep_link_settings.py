"""The deep_linking_settings claim of an LtiDeepLinkingRequest, read by one set of rules.

LTI Deep Linking 2.0 (https://www.imsglobal.org/spec/lti-dl/v2p0) lets the platform say
where the response goes (``deep_link_return_url``), which content item types it takes
(``accept_types``), whether it takes several items (``accept_multiple``), whether it
creates line items (``accept_lineitem``), how it may show a link
(``accept_presentation_document_targets``) and an opaque ``data`` to echo back.

The claim is read at launch validation, before anything is written or the login state
is spent, so a request mixgrade cannot answer is refused with a message an admin can act
on. The return URL rule is checked again before the return page posts to it (defence in
depth: a registration may have changed since the launch).

Decisions (issue 12 §5):

- ``accept_types`` without ``ltiResourceLink`` refuses the launch. mixgrade offers only
  resource links, so a picker could place nothing; a refusal writes nothing and says
  which LMS placement to use instead. An absent ``accept_types`` (the spec requires it,
  some test platforms omit it) is read as "no restriction".
- ``accept_lineitem`` absent means the platform made no promise either way; the line item
  is sent, as a platform that does not create line items ignores it.
- Of the presentation targets, a resource link can be shown in an ``iframe`` or a
  ``window``. mixgrade works inside the LMS page, so the frame is preferred; when both
  are accepted the instructor may choose. Neither (only ``embed``, or none given): the
  item names no target and the platform shows it its own way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from service.lti.platforms import web_origins
from service.models import LtiPlatform
from service.origins import origin_of

RESOURCE_LINK = "ltiResourceLink"
#: The presentation targets a resource link can ask for, in our order of preference.
TARGETS = ("iframe", "window")


class SettingsRefused(ValueError):
    """The Deep Linking request cannot be answered; the message says why, for an admin."""


@dataclass(frozen=True)
class DeepLinkSettings:
    """What the platform accepts in the response to one Deep Linking request."""

    return_url: str
    accept_multiple: bool
    accept_lineitem: bool
    #: Of ``TARGETS``, those the platform accepts, preferred first.
    targets: tuple[str, ...]
    data: Any

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values, to keep in the session between the launch and the pick."""
        return {**asdict(self), "targets": list(self.targets)}


def read(platform: LtiPlatform, claim: Any) -> DeepLinkSettings:
    """The settings of a Deep Linking request, or SettingsRefused saying what is wrong."""
    if not isinstance(claim, dict) or not claim.get("deep_link_return_url"):
        raise SettingsRefused("A deep linking request must carry deep_link_return_url.")
    return_url = check_return_url(platform, claim["deep_link_return_url"])
    accept_types = claim.get("accept_types")
    if accept_types is not None:
        if not isinstance(accept_types, list) or not all(isinstance(t, str) for t in accept_types):
            raise SettingsRefused("deep_linking_settings.accept_types must be a list of strings.")
        if RESOURCE_LINK not in accept_types:
            offered = ", ".join(accept_types) or "nothing"
            raise SettingsRefused(
                f"This LMS placement accepts {offered[:200]}, but mixgrade places only LTI "
                f"resource links ({RESOURCE_LINK}). Add mixgrade from the LMS's placement for "
                "external tool activities or assignments (for example Moodle's activity "
                "chooser, or Canvas's assignment selection or module item placement)."
            )
    targets = claim.get("accept_presentation_document_targets")
    accepted = targets if isinstance(targets, list) else []
    return DeepLinkSettings(
        return_url=return_url,
        accept_multiple=_flag(claim, "accept_multiple", default=False),
        accept_lineitem=_flag(claim, "accept_lineitem", default=True),
        targets=tuple(t for t in TARGETS if t in accepted),
        data=claim.get("data"),
    )


def check_return_url(platform: LtiPlatform, url: Any) -> str:
    """``url`` if the Deep Linking response may be posted there; else SettingsRefused.

    The response carries a JWT we signed, and the return page posts it from our origin,
    so only a plain http(s) URL on one of the platform's web origins will do:
    ``javascript:`` or ``data:`` would run in our origin, another host would receive a
    placement signed by us. A URL with characters that browsers read differently from
    Python (a backslash, white space, control characters) or with a user name is refused
    too, so the origin checked is the origin the browser posts to.
    """
    if not isinstance(url, str) or not url:
        raise SettingsRefused("The Deep Linking return URL must be a string.")
    if any(c == "\\" or c <= " " or c == "\x7f" for c in url):
        raise SettingsRefused(
            "The Deep Linking return URL contains a backslash, white space or a control "
            "character; the LMS must send a plain http(s) URL."
        )
    origin = origin_of(url)
    if origin is None:
        scheme = url.split(":", 1)[0] if ":" in url else ""
        if scheme.lower() in ("http", "https"):
            why = "and this one has no plain host name (letters, digits, dots, hyphens)."
        elif scheme:
            why = f"not a {scheme[:20]!r} URL."
        else:
            why = "and this one is not a URL."
        raise SettingsRefused(
            f"The Deep Linking return URL must be an http(s) URL on the LMS, {why}"
        )
    if "@" in urlsplit(url).netloc:
        raise SettingsRefused(
            f"The Deep Linking return URL carries a user name before its host ({origin}); "
            "the LMS must send a plain http(s) URL."
        )
    registered = web_origins(platform)
    if origin not in registered:
        raise SettingsRefused(
            f"The Deep Linking return URL is on {origin}, which is not a web origin of this "
            f"platform (registered: {', '.join(registered) or 'none'}). If that is the LMS's "
            "own address, an admin can add it to the platform's registration as a web origin "
            "(under /lti/platforms, or `mixgrade lti register --web-origin`)."
        )
    return url


def _flag(claim: dict[str, Any], name: str, *, default: bool) -> bool:
    """A boolean setting; "true"/"false" strings are read too (lenient to older platforms)."""
    value = claim.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise SettingsRefused(f"deep_linking_settings.{name} must be true or false, not {value!r:.40}.")
