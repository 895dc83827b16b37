"""Console users, their sessions and API tokens."""

from __future__ import annotations

import json
from typing import Any

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


def _decode(row: Row | None) -> Row | None:
    if row is not None:
        row["skills"] = json.loads(row["skills"])
        row["languages"] = json.loads(row["languages"])
        row["active"] = bool(row["active"])
    return row


async def create(
    tx: Tx,
    *,
    email: str,
    name: str,
    role: str,
    password_hash: str,
    max_chats: int,
    skills: list[str],
    languages: list[str],
    now: str,
) -> Row:
    user_id = new_id("u")
    await tx.execute(
        "INSERT INTO users (id, email, name, role, password_hash, max_chats, skills, languages, status_since, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, email, name, role, password_hash, max_chats, json.dumps(skills), json.dumps(languages), now, now),
    )
    return _decode(await tx.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,)))  # type: ignore[return-value]


async def get(db: Database | Tx, user_id: str) -> Row | None:
    return _decode(await db.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,)))


async def by_email(db: Database | Tx, email: str) -> Row | None:
    return _decode(await db.fetch_one("SELECT * FROM users WHERE email = ?", (email,)))


async def list_active(db: Database | Tx) -> list[Row]:
    rows = await db.fetch("SELECT * FROM users WHERE active = 1 ORDER BY name")
    return [_decode(r) for r in rows]  # type: ignore[misc]


async def list_all(db: Database | Tx) -> list[Row]:
    """Every console user, the active ones first."""
    rows = await db.fetch("SELECT * FROM users ORDER BY active DESC, name COLLATE NOCASE, email")
    return [_decode(r) for r in rows]  # type: ignore[misc]


async def update_profile(
    tx: Tx, user_id: str, *, email: str, name: str, max_chats: int, skills: list[str], languages: list[str]
) -> None:
    await tx.execute(
        "UPDATE users SET email = ?, name = ?, max_chats = ?, skills = ?, languages = ? WHERE id = ?",
        (email, name, max_chats, json.dumps(skills), json.dumps(languages), user_id),
    )


async def end_sessions(tx: Tx, user_id: str) -> None:
    """Every console session of the user dies: older generations no longer match, and the rows go."""
    await tx.execute("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?", (user_id,))
    await tx.execute("DELETE FROM console_sessions WHERE user_id = ?", (user_id,))


async def set_role(tx: Tx, user_id: str, role: str) -> None:
    await tx.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))


async def set_password_hash(tx: Tx, user_id: str, password_hash: str) -> None:
    await tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


async def set_active(tx: Tx, user_id: str, active: bool, now: str) -> None:
    """Deactivated users are offline; reactivated ones start offline too."""
    await tx.execute(
        "UPDATE users SET active = ?, status = 'offline', status_since = ? WHERE id = ?", (int(active), now, user_id)
    )


async def set_status(tx: Tx, user_id: str, status: str, now: str) -> None:
    await tx.execute(
        "UPDATE users SET status = ?, status_since = CASE WHEN status = ? THEN status_since ELSE ? END WHERE id = ?",
        (status, status, now, user_id),
    )


async def set_all_offline(tx: Tx, now: str) -> None:
    await tx.execute("UPDATE users SET status = 'offline', status_since = ? WHERE status != 'offline'", (now,))


async def mark_assigned(tx: Tx, user_id: str, now: str) -> None:
    await tx.execute("UPDATE users SET last_assigned_at = ? WHERE id = ?", (now, user_id))


# -- console sessions ----------------------------------------------------------------------


async def create_session(tx: Tx, *, user_id: str, generation: int, csrf_token: str, now: str, expires_at: str) -> str:
    session_id = new_id("s")
    await tx.execute(
        "INSERT INTO console_sessions (id, user_id, generation, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, user_id, generation, csrf_token, now, expires_at),
    )
    return session_id


async def session_with_user(db: Database, session_id: str, now: str) -> dict[str, Any] | None:
    """The live session and its user, or None when expired, revoked or the user changed."""
    row = await db.fetch_one(
        "SELECT s.id AS session_id, s.csrf_token, s.expires_at AS session_expires_at, u.* FROM console_sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = ? AND s.expires_at > ? AND u.active = 1 AND s.generation = u.session_generation",
        (session_id, now),
    )
    return _decode(row)


async def delete_session(tx: Tx, session_id: str) -> None:
    await tx.execute("DELETE FROM console_sessions WHERE id = ?", (session_id,))


# -- API tokens ----------------------------------------------------------------------------


async def create_api_token(tx: Tx, *, user_id: str, token_hash: str, label: str, now: str) -> str:
    token_id = new_id("t")
    await tx.execute(
        "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES (?, ?, ?, ?, ?)",
        (token_id, user_id, token_hash, label, now),
    )
    return token_id


async def user_by_api_token(db: Database, token_hash: str) -> Row | None:
    return _decode(
        await db.fetch_one(
            "SELECT u.*, t.id AS api_token_id FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.active = 1",
            (token_hash,),
        )
    )


async def api_tokens(db: Database | Tx) -> list[Row]:
    """Every API token with its user, newest first; never the hash."""
    return await db.fetch(
        "SELECT t.id, t.label, t.created_at, t.revoked_at, t.user_id, u.name AS user_name, u.email AS user_email,"
        " u.role AS user_role, u.active AS user_active FROM api_tokens t JOIN users u ON u.id = t.user_id"
        " ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC"
    )


async def api_token(db: Database | Tx, token_id: str) -> Row | None:
    return await db.fetch_one("SELECT id, user_id, label, created_at, revoked_at FROM api_tokens WHERE id = ?", (token_id,))


async def revoke_api_token(tx: Tx, token_id: str, now: str) -> bool:
    return await tx.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id)) == 1


async def revoke_user_api_tokens(tx: Tx, user_id: str, now: str) -> list[Row]:
    """Revokes every live token of the user; returns the ones it revoked."""
    live = await tx.fetch("SELECT id, label FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at", (user_id,))
    await tx.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (now, user_id))
    return live
