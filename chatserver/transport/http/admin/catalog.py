"""/admin/categories, /admin/canned and /admin/faq: lists with a language filter, and one form each."""

from __future__ import annotations

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import Forbidden, NotFound
from chatserver.domain.models import LOCALES
from chatserver.services.admin.catalog import CatalogAdmin
from chatserver.services.admin.validate import FieldErrors, RawForm, canned_answer, category, faq_article
from chatserver.services.auth import ConsoleUser
from chatserver.transport.http.admin.common import admin_form, done, failed, page, require_admin

LANGUAGES = (("en", "English"), ("ru", "Russian"), ("pl", "Polish"))
CATEGORY_FIELDS = ("position", "name_en", "name_ru", "name_pl", "first_response_hours", "resolution_hours", "owner_group", "active")


def _catalog(request: web.Request) -> CatalogAdmin:
    return request.app[keys.SERVICES].admin.catalog


def _locale_filter(request: web.Request) -> str | None:
    wanted = request.query.get("locale", "")
    return wanted if wanted in LOCALES else None


# -- categories ----------------------------------------------------------------------------


async def categories_list(request: web.Request) -> web.Response:
    user = await require_admin(request)
    rows = await _catalog(request).categories()
    return page(request, "admin/categories.html", user, "categories", categories=rows)


async def category_page(request: web.Request, user: ConsoleUser, slug: str | None, form: RawForm,
                        errors: dict[str, str] | None = None) -> web.Response:
    return page(
        request, "admin/category_form.html", user, "categories", status=400 if errors else 200,
        slug=slug, form=form, errors=errors or {}, groups=await _catalog(request).owner_groups(),
    )


async def category_new(request: web.Request) -> web.Response:
    user = await require_admin(request)
    settings = request.app[keys.SETTINGS]
    rows = await _catalog(request).categories()
    form = RawForm.of({
        "first_response_hours": settings.first_response_hours, "resolution_hours": settings.resolution_hours,
        "owner_group": "support", "active": True, "position": max((r["position"] for r in rows if r["position"] < 99), default=0) + 1,
    })
    return await category_page(request, user, None, form)


async def category_edit(request: web.Request) -> web.Response:
    user = await require_admin(request)
    try:
        row = await _catalog(request).category(request.match_info["slug"])
    except NotFound:
        raise web.HTTPNotFound(text="No such category.") from None
    return await category_page(request, user, row["slug"], RawForm.of({key: row[key] for key in CATEGORY_FIELDS}))


async def category_create(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    try:
        values = category(form)
        await _catalog(request).create_category(user.id, values)
    except FieldErrors as exc:
        return await category_page(request, user, None, form, exc.errors)
    except Forbidden as exc:  # demoted or deactivated while the form was on its way
        raise failed(request, user, "/admin/categories", exc.message) from None
    raise done(request, user, "/admin/categories", f"Category “{values.name_en}” created.")


async def category_update(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    slug = request.match_info["slug"]
    try:
        values = category(form, slug)
        changes = await _catalog(request).update_category(user.id, values)
    except FieldErrors as exc:
        return await category_page(request, user, slug, form, exc.errors)
    except Forbidden as exc:
        raise failed(request, user, "/admin/categories", exc.message) from None
    except NotFound:
        raise web.HTTPNotFound(text="No such category.") from None
    text = f"Category “{values.name_en}” saved." if changes else "Nothing changed."
    if {"first_response_hours", "resolution_hours"} & changes.keys():
        text += " New targets apply to complaints created from now on."
    raise done(request, user, "/admin/categories", text)


# -- canned answers ------------------------------------------------------------------------


async def canned_list(request: web.Request) -> web.Response:
    user = await require_admin(request)
    locale = _locale_filter(request)
    rows = await _catalog(request).canned_answers(locale)
    return page(request, "admin/canned.html", user, "canned", answers=rows, locale=locale, languages=LANGUAGES)


async def canned_page(request: web.Request, user: ConsoleUser, answer_id: str | None, form: RawForm,
                      errors: dict[str, str] | None = None) -> web.Response:
    return page(request, "admin/canned_form.html", user, "canned", status=400 if errors else 200,
                answer_id=answer_id, form=form, errors=errors or {}, languages=LANGUAGES)


async def canned_new(request: web.Request) -> web.Response:
    user = await require_admin(request)
    return await canned_page(request, user, None, RawForm.of({"locale": _locale_filter(request) or "en", "active": True}))


async def canned_edit(request: web.Request) -> web.Response:
    user = await require_admin(request)
    try:
        row = await _catalog(request).canned_answer(request.match_info["answer_id"])
    except NotFound:
        raise web.HTTPNotFound(text="No such canned answer.") from None
    return await canned_page(request, user, row["id"], RawForm.of({k: row[k] for k in ("shortcut", "locale", "title", "body", "active")}))


async def canned_save(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    answer_id = request.match_info.get("answer_id")
    try:
        values = canned_answer(form)
        await _catalog(request).save_canned_answer(user.id, answer_id, values)
    except FieldErrors as exc:
        return await canned_page(request, user, answer_id, form, exc.errors)
    except NotFound:
        raise web.HTTPNotFound(text="No such canned answer.") from None
    except Forbidden as exc:
        raise failed(request, user, "/admin/canned", exc.message) from None
    verb = "saved" if answer_id else "created"
    raise done(request, user, f"/admin/canned?locale={values.locale}", f"Canned answer /{values.shortcut} ({values.locale}) {verb}.")


# -- FAQ articles --------------------------------------------------------------------------


async def faq_list(request: web.Request) -> web.Response:
    user = await require_admin(request)
    locale = _locale_filter(request)
    rows = await _catalog(request).faq_articles(locale)
    names = {row["slug"]: row["name_en"] for row in await _catalog(request).categories()}
    return page(request, "admin/faq.html", user, "faq", articles=rows, locale=locale, languages=LANGUAGES, category_names=names)


async def faq_page(request: web.Request, user: ConsoleUser, article_id: str | None, form: RawForm,
                   errors: dict[str, str] | None = None) -> web.Response:
    rows = await _catalog(request).categories()
    return page(request, "admin/faq_form.html", user, "faq", status=400 if errors else 200, article_id=article_id,
                form=form, errors=errors or {}, languages=LANGUAGES,
                category_options=[("", "None"), *((r["slug"], r["name_en"]) for r in rows)])


async def faq_new(request: web.Request) -> web.Response:
    user = await require_admin(request)
    return await faq_page(request, user, None, RawForm.of({"locale": _locale_filter(request) or "en", "active": True, "position": 10}))


async def faq_edit(request: web.Request) -> web.Response:
    user = await require_admin(request)
    try:
        row = await _catalog(request).faq_article(request.match_info["article_id"])
    except NotFound:
        raise web.HTTPNotFound(text="No such FAQ article.") from None
    return await faq_page(request, user, row["id"], RawForm.of(
        {k: row[k] for k in ("locale", "category", "position", "question", "answer", "active")}))


async def faq_save(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    article_id = request.match_info.get("article_id")
    known = [row["slug"] for row in await _catalog(request).categories()]
    try:
        values = faq_article(form, known)
        await _catalog(request).save_faq_article(user.id, article_id, values)
    except FieldErrors as exc:
        return await faq_page(request, user, article_id, form, exc.errors)
    except NotFound:
        raise web.HTTPNotFound(text="No such FAQ article.") from None
    except Forbidden as exc:
        raise failed(request, user, "/admin/faq", exc.message) from None
    verb = "saved" if article_id else "created"
    raise done(request, user, f"/admin/faq?locale={values.locale}", f"FAQ article {verb}: “{values.question}”.")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/categories", categories_list)
    app.router.add_get("/admin/categories/new", category_new)
    app.router.add_post("/admin/categories", category_create)
    app.router.add_get("/admin/categories/{slug}", category_edit)
    app.router.add_post("/admin/categories/{slug}", category_update)
    app.router.add_get("/admin/canned", canned_list)
    app.router.add_get("/admin/canned/new", canned_new)
    app.router.add_post("/admin/canned", canned_save)
    app.router.add_get("/admin/canned/{answer_id}", canned_edit)
    app.router.add_post("/admin/canned/{answer_id}", canned_save)
    app.router.add_get("/admin/faq", faq_list)
    app.router.add_get("/admin/faq/new", faq_new)
    app.router.add_post("/admin/faq", faq_save)
    app.router.add_get("/admin/faq/{article_id}", faq_edit)
    app.router.add_post("/admin/faq/{article_id}", faq_save)
