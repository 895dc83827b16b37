"""Administration: users, categories, knowledge, runtime settings, identity secret and API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.services.admin.catalog import CatalogAdmin
from chatserver.services.admin.runtime import RuntimeSettings
from chatserver.services.admin.tokens import TokenAdmin
from chatserver.services.admin.users import UserAdmin


@dataclass
class Admin:
    users: UserAdmin
    catalog: CatalogAdmin
    tokens: TokenAdmin
    runtime: RuntimeSettings
