"""The plot of an unsaved spec, for the editor's preview.

An ``<img>`` can only GET, and the text is not stored anywhere before it is saved, so the
image's URL carries the text and seed itself: compressed and signed with the app's secret
(itsdangerous), bound to the instructor who previewed and valid for
:data:`LINK_SECONDS`. Any web process, on any machine, can then draw it; nothing is kept
server-side beyond a small per-process cache of the last PNGs, so reloading a preview
does not fit the model again. Drawing is bounded as every preview is
(``authoring.PREVIEW_SECONDS``, the spec size limit).
"""

from __future__ import annotations

import functools

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from service.services import authoring

#: Seconds a preview's plot link works: long enough to read the preview, short enough
#: that a copied link soon stops drawing someone's draft.
LINK_SECONDS = 30 * 60
#: Longest link token, in characters: a request line much beyond this is refused by some
#: servers and proxies. Typical specs give 1-3 KB; a longer spec's plot shows once saved.
MAX_TOKEN_CHARS = 12_000
_SALT = "mixgrade.draft-plot"


class BadLink(ValueError):
    """The link is not one we made, is for someone else, or has expired (the message says)."""


def _signer(secret: str | bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def link_token(secret: str | bytes, user_id: int, text: str, seed: int) -> str | None:
    """The token for this text's plot at ``seed``; None when it would be too long."""
    token = _signer(secret).dumps({"u": user_id, "t": text, "s": seed})
    return token if len(token) <= MAX_TOKEN_CHARS else None


def read_token(secret: str | bytes, user_id: int, token: str) -> tuple[str, int]:
    """The (text, seed) a token carries, for the user it was made for."""
    if len(token) > MAX_TOKEN_CHARS:
        raise BadLink("this plot link is longer than any the editor makes")
    try:
        payload = _signer(secret).loads(token, max_age=LINK_SECONDS)
    except SignatureExpired:
        raise BadLink("this plot link has expired; preview again") from None
    except BadData:
        raise BadLink("this is not a plot link the editor made") from None
    if not isinstance(payload, dict) or payload.get("u") != user_id:
        raise BadLink("this plot link was made for another instructor")
    text, seed = payload.get("t"), payload.get("s")
    if not isinstance(text, str) or not isinstance(seed, int):
        raise BadLink("this is not a plot link the editor made")
    return text, seed


@functools.lru_cache(maxsize=16)
def plot_png(text: str, seed: int, budget: float) -> bytes:
    """The PNG of ``text``'s plot at ``seed`` (b"" when it draws none): see
    ``authoring.preview_text_plot``, which raises for a spec or seed that cannot be drawn."""
    return authoring.preview_text_plot(text, seed, budget)
