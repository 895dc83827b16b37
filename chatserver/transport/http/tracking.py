"""/track/{reference}?key=...: a complaint for its customer, in their language, without the widget.

The key from the acknowledgement is the credential: every request checks it through the service, and a
wrong key answers exactly like an unknown reference. Forms carry the key in a hidden field, refuse
posts made from other sites, and redirect back (303) with the outcome named in `?done=`.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlencode

from aiohttp import web
from multidict import MultiDictProxy

from chatserver import keys
from chatserver.domain.errors import HTTP_STATUS, ChatError, NotFound
from chatserver.domain.models import LOCALES
from chatserver.transport.forwarding import client_of
from chatserver.transport.http import tracking_view
from chatserver.transport.http.form_origin import from_own_page
from chatserver.transport.http.forms import read_form
from chatserver.transport.http.pages import render
from chatserver.transport.http.security import NO_STORE
from chatserver.transport.http.widget import catalog, pick_locale
from chatserver.transport.ratelimit import KeyedLimiter, per_minute

REFERENCE_MAX = 32
KEY_MAX = 128
COMMENT_MAX = 2000
SCORES = {"1", "2", "3", "4", "5"}
# what a failed service call tells the customer; anything else is the generic message
ERROR_TEXTS = {"conflict": "case.conflict", "too_large": "errors.too_large", "rate_limited": "errors.rate_limited"}
# a refusal whose reason the customer should read in its own words
REASON_TEXTS = {"unanswered": "errors.wait_for_answer"}


def _private(response: web.Response) -> web.Response:
    # the key is in the URL: keep it out of caches and out of Referer headers
    response.headers.update(NO_STORE)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


Form = MultiDictProxy[Any]
# checks one posted form, acts through the service, and names what it did for `?done=`
FormAction = Callable[[Form, str, str], Awaitable[str]]


def _field(form: Form, name: str, limit: int | None = None) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    return value[:limit] if limit else value


def _lang(wanted: str | None) -> str:
    return wanted if wanted in LOCALES else ""


def _page_url(reference: str, key: str, lang: str = "", done: str = "") -> str:
    query = {"key": key, **({"lang": lang} if lang else {}), **({"done": done} if done else {})}
    return f"/track/{quote(reference)}?{urlencode(query)}"


class FormError(Exception):
    """A form the page shows again, with a message from the catalog and an HTTP status."""

    def __init__(self, text_key: str, status: int = 400) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.status = status


class TrackingPages:
    def __init__(self) -> None:
        # people send a few forms a minute; a script sending more gets told to wait
        self.posts = KeyedLimiter(per_minute(20))

    # -- pages ------------------------------------------------------------------------------------

    def missing(self, request: web.Request, wanted: str | None, *, status: int = 404) -> web.Response:
        """Unknown reference, wrong key, or (403) a form from another site: nothing about the complaint."""
        locale = pick_locale(wanted, request.headers.get("Accept-Language", ""))
        prefix = "track.forbidden" if status == 403 else "track.not_found"
        response = render(
            request, "track.html", status=status, t=catalog(locale), locale=locale, complaint=None,
            missing_title=catalog(locale)[f"{prefix}_title"], missing_text=catalog(locale)[prefix],
        )
        return _private(response)

    async def page(
        self, request: web.Request, reference: str, key: str, wanted: str | None, *,
        status: int = 200, done: str | None = None, error: FormError | None = None, draft: dict[str, str] | None = None,
    ) -> web.Response:
        try:
            view, customer_locale = await request.app[keys.SERVICES].complaints.track(reference, key)
        except NotFound:
            return self.missing(request, wanted)
        locale = _lang(wanted) or customer_locale
        t = catalog(locale)
        shown = tracking_view.page(view, t, locale, done=done)
        # a field's message goes with its form; "it changed meanwhile" is about the whole page
        in_form = error is not None and error.text_key != "case.conflict" and shown["action"] != "rated"
        response = render(
            request, "track.html", status=error.status if error else status, t=t, locale=locale, key=key,
            lang=_lang(wanted), error=t[error.text_key] if in_form else "",
            page_error=t[error.text_key] if error and not in_form else "", draft=draft or {},
            max_body=request.app[keys.SETTINGS].max_message_chars, comment_max=COMMENT_MAX,
            languages=[(code, _page_url(reference, key, code)) for code in LOCALES], **shown,
        )
        return _private(response)

    async def show(self, request: web.Request) -> web.Response:
        done = request.query.get("done")
        return await self.page(
            request, request.match_info["reference"][:REFERENCE_MAX], request.query.get("key", "")[:KEY_MAX],
            request.query.get("lang"), done=done if done in tracking_view.DONE else None,
        )

    # -- forms ------------------------------------------------------------------------------------

    async def reply(self, request: web.Request) -> web.Response:
        """A message to the team; on a resolved complaint, accept it or ask for more (a message is then needed)."""

        async def act(form: Form, reference: str, key: str) -> str:
            body = _field(form, "body")
            decision = _field(form, "decision", 16) or None
            if decision not in (None, "accept", "clarify"):
                raise FormError("errors.generic")
            if len(body) > request.app[keys.SETTINGS].max_message_chars:
                raise FormError("errors.too_large", 413)
            if decision != "accept" and not body.strip():
                raise FormError("case.explain_required" if decision == "clarify" else "track.body_required")
            await request.app[keys.SERVICES].complaints.track_act(reference, key, body=body or None, decision=decision)
            return {"accept": "accepted", "clarify": "clarified"}.get(decision or "", "replied")

        return await self.handle_form(request, act, draft_fields=("body",))

    async def rate(self, request: web.Request) -> web.Response:
        """1 to 5, once, after the complaint is closed."""

        async def act(form: Form, reference: str, key: str) -> str:
            score = _field(form, "score", 2)
            comment = _field(form, "comment")
            if score not in SCORES:
                raise FormError("track.score_required")
            if len(comment) > COMMENT_MAX:
                raise FormError("errors.too_large", 413)
            await request.app[keys.SERVICES].complaints.track_rate(reference, key, int(score), comment or None)
            return "rated"

        return await self.handle_form(request, act, draft_fields=("comment",))

    async def handle_form(self, request: web.Request, act: FormAction, draft_fields: tuple[str, ...]) -> web.Response:
        reference = request.match_info["reference"][:REFERENCE_MAX]
        if not from_own_page(request):
            return self.missing(request, request.query.get("lang"), status=403)
        form = await read_form(request)
        key = _field(form, "key", KEY_MAX)
        wanted = _field(form, "lang", 8) or None
        draft = {name: _field(form, name) for name in draft_fields}
        try:
            if not self.posts.allow(client_of(request).limit_key):
                raise FormError("errors.rate_limited", 429)
            done = await act(form, reference, key)
        except FormError as exc:
            return await self.page(request, reference, key, wanted, error=exc, draft=draft)
        except NotFound:
            return self.missing(request, wanted)
        except ChatError as exc:
            text = REASON_TEXTS.get(exc.reason or "") or ERROR_TEXTS.get(exc.code, "errors.generic")
            failure = FormError(text, HTTP_STATUS.get(exc.code, 400))
            return await self.page(request, reference, key, wanted, error=failure, draft=draft)
        return _private(web.Response(status=303, headers={"Location": _page_url(reference, key, _lang(wanted), done)}))


def setup_tracking_routes(app: web.Application) -> None:
    pages = TrackingPages()
    app.router.add_get("/track/{reference}", pages.show)
    app.router.add_post("/track/{reference}/reply", pages.reply)
    app.router.add_post("/track/{reference}/rate", pages.rate)
