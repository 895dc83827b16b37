"""/admin/users: the list, the new-user form, and each user's profile, password and activation."""

from __future__ import annotations

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import ChatError, Conflict, NotFound
from chatserver.domain.models import LOCALES, ROLES
from chatserver.domain.text import isolate
from chatserver.services.admin.users import PROFILE_FIELDS, UserAdmin, profile_version
from chatserver.services.admin.validate import FieldErrors, RawForm, new_user, password_change, user_profile
from chatserver.services.auth import ConsoleUser
from chatserver.transport.http.admin.common import admin_form, done, failed, page, require_admin

LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "pl": "Polish"}


def _admin(request: web.Request) -> UserAdmin:
    return request.app[keys.SERVICES].admin.users


async def _choices(request: web.Request) -> dict[str, object]:
    skills = await _admin(request).skills()
    return {
        "roles": ROLES,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        "skills": [(row["slug"], row["name_en"] + ("" if row["active"] else " (inactive)")) for row in skills],
    }


async def users_list(request: web.Request) -> web.Response:
    user = await require_admin(request)
    rows = await _admin(request).list()
    return page(request, "admin/users.html", user, "users", users=rows)


async def new_form(request: web.Request, user: ConsoleUser | None = None, form: RawForm | None = None,
                   errors: dict[str, str] | None = None) -> web.Response:
    user = user or await require_admin(request)
    form = form or RawForm.of({"role": "agent", "max_chats": 3, "languages": ["en"], "password_mode": "generate"})
    return page(request, "admin/user_new.html", user, "users", status=400 if errors else 200,
                form=form, errors=errors or {}, **await _choices(request))


async def new_get(request: web.Request) -> web.Response:
    return await new_form(request)


async def create(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    known = [row["slug"] for row in await _admin(request).skills()]
    try:
        profile, password = new_user(form, known)
        row, generated = await _admin(request).create(user, profile, password)
    except FieldErrors as exc:
        return await new_form(request, user, form, exc.errors)
    except ChatError as exc:  # demoted or deactivated while the form was on its way
        raise failed(request, user, "/admin/users", exc.message) from None
    text = f"{isolate(row['name'])} can now sign in as {row['email']}."
    if generated:
        raise done(request, user, f"/admin/users/{row['id']}", text + " Give them this password; it is shown only now.",
                   secret=generated, label="Password")
    raise done(request, user, f"/admin/users/{row['id']}", text)


async def edit_page(request: web.Request, user: ConsoleUser, user_id: str, *, form: RawForm | None = None,
                    errors: dict[str, str] | None = None, password_form: RawForm | None = None,
                    password_errors: dict[str, str] | None = None) -> web.Response:
    subject = await _admin(request).get(user_id)
    history = await _admin(request).history(user_id)
    names = {row["id"]: row["name"] for row in await _admin(request).list()}
    # a form shown again after a mistake keeps the version it was first loaded with
    form = form or RawForm.of({**{key: subject[key] for key in PROFILE_FIELDS}, "seen": profile_version(subject)})
    return page(
        request, "admin/user_edit.html", user, "users", status=400 if errors or password_errors else 200,
        subject=subject, form=form, errors=errors or {}, password_errors=password_errors or {},
        password_form=password_form or RawForm.of({"password_mode": "generate" if user_id != user.id else "set"}),
        history=history, names=names, **await _choices(request),
    )


async def edit_get(request: web.Request) -> web.Response:
    user = await require_admin(request)
    try:
        return await edit_page(request, user, request.match_info["user_id"])
    except NotFound:
        raise web.HTTPNotFound(text="No such user.") from None


async def _existing(request: web.Request, user: ConsoleUser) -> str:
    """The user id from the path, or back to the list when there is no such user."""
    user_id = request.match_info["user_id"]
    try:
        await _admin(request).get(user_id)
    except NotFound as exc:
        raise failed(request, user, "/admin/users", exc.message) from None
    return user_id


async def update(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    user_id = await _existing(request, user)
    known = [row["slug"] for row in await _admin(request).skills()]
    try:
        changes = await _admin(request).update(user, user_id, user_profile(form, known), form.text("seen", 64) or None)
    except FieldErrors as exc:
        return await edit_page(request, user, user_id, form=form, errors=exc.errors)
    except Conflict as exc:  # changed by someone else since this form was loaded: show what is stored now
        raise failed(request, user, f"/admin/users/{user_id}", exc.message) from None
    except ChatError as exc:
        raise failed(request, user, "/admin/users", exc.message) from None
    if not changes:
        raise done(request, user, f"/admin/users/{user_id}", "Nothing changed.")
    text = "Saved."
    if "role" in changes:
        text += " The role changed, so their open sessions were ended and they sign in again."
    raise done(request, user, f"/admin/users/{user_id}", text)


async def password(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    user_id = await _existing(request, user)
    try:
        generated = await _admin(request).set_password(user, user_id, password_change(form))
    except FieldErrors as exc:
        return await edit_page(request, user, user_id, password_form=form, password_errors=exc.errors)
    except ChatError as exc:
        raise failed(request, user, "/admin/users", exc.message) from None
    if user_id == user.id:
        raise web.HTTPSeeOther("/login?next=/admin/users")  # their own session ended with the change
    text = "Password changed. Their open sessions were ended."
    if generated:
        raise done(request, user, f"/admin/users/{user_id}", text + " Give them this password; it is shown only now.",
                   secret=generated, label="New password")
    raise done(request, user, f"/admin/users/{user_id}", text)


async def deactivate(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    user_id = request.match_info["user_id"]
    if form.first("confirm") != "yes":  # one stray click must not sign someone out and revoke their tokens for good
        subject = await _existing(request, user)
        row = await _admin(request).get(subject)
        raise failed(request, user, f"/admin/users/{user_id}",
                     f"Tick the box to confirm: {isolate(row['name'])} is signed out at once, their chats go back "
                     "to the queue and their API tokens are revoked for good.")
    try:
        row = await _admin(request).deactivate(user, user_id)
    except NotFound as exc:
        raise failed(request, user, "/admin/users", exc.message) from None
    except ChatError as exc:
        raise failed(request, user, f"/admin/users/{user_id}", exc.message) from None
    raise done(request, user, f"/admin/users/{user_id}",
               f"{isolate(row['name'])} is deactivated: signed out everywhere, their API tokens revoked, "
               "and their chats went back to the queue.")


async def reactivate(request: web.Request) -> web.Response:
    user, _ = await admin_form(request)
    user_id = request.match_info["user_id"]
    try:
        row = await _admin(request).reactivate(user, user_id)
    except NotFound as exc:
        raise failed(request, user, "/admin/users", exc.message) from None
    except ChatError as exc:
        raise failed(request, user, f"/admin/users/{user_id}", exc.message) from None
    raise done(request, user, f"/admin/users/{user_id}", f"{isolate(row['name'])} can sign in again.")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/users", users_list)
    app.router.add_get("/admin/users/new", new_get)
    app.router.add_post("/admin/users", create)
    app.router.add_get("/admin/users/{user_id}", edit_get)
    app.router.add_post("/admin/users/{user_id}", update)
    app.router.add_post("/admin/users/{user_id}/password", password)
    app.router.add_post("/admin/users/{user_id}/deactivate", deactivate)
    app.router.add_post("/admin/users/{user_id}/reactivate", reactivate)
