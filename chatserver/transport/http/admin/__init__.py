"""/admin: server-rendered pages for admins; every form posts back with the session's CSRF token."""

from __future__ import annotations

from aiohttp import web

from chatserver import keys
from chatserver.transport.http.admin import catalog, settings, users
from chatserver.transport.http.admin.common import Notices, require_admin


async def home(request: web.Request) -> web.Response:
    await require_admin(request)
    raise web.HTTPSeeOther("/admin/users")


def setup_admin_routes(app: web.Application) -> None:
    app[keys.ADMIN_NOTICES] = Notices()
    app.router.add_get("/admin", home)
    users.setup(app)
    catalog.setup(app)
    settings.setup(app)
