"""createUser, updateUser, dropUser, usersInfo, grantRolesToUser, revokeRolesFromUser
[manual: reference/command (User Management Commands);
srv:db/commands/user_management_commands.cpp]. A sandbox without --auth gets its users on
the first createUser, as a mongod without --auth keeps users it does not enforce."""

from __future__ import annotations

from typing import Any

from bson.binary import Binary, UuidRepresentation

from ..access import OpContext
from ..auth import AuthState, User
from ..auth.roles import exists
from ..auth.scram import MECHANISMS
from ..errors import CommandError
from .registry import command


def _auth(ctx: OpContext) -> AuthState:
    if ctx.state.auth is None:
        ctx.state.auth = AuthState(enforced=False)
    return ctx.state.auth


def _name(body: dict[str, Any], field: str) -> str:
    name = body.get(field)
    if not isinstance(name, str):
        raise CommandError(
            14, f"BSON field '{field}.{field}' is the wrong type, expected type 'string'"
        )
    if not name:
        raise CommandError(2, "User document needs 'user' field to be non-empty")
    return name


def _roles(ctx: OpContext, value: Any, field: str) -> list[tuple[str, str]]:
    """Role names ("read": on the command's database) or {role, db} documents, each a
    built-in role (31 RoleNotFound otherwise)."""
    if not isinstance(value, list):
        raise CommandError(
            14, f"BSON field '{field}.roles' is the wrong type, expected type 'array'"
        )
    roles: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            role = (item, ctx.db)
        elif isinstance(item, dict) and isinstance(item.get("role"), str):
            db = item.get("db")
            if not isinstance(db, str):
                raise CommandError(2, 'Missing expected field "db"')
            role = (item["role"], db)
        else:
            raise CommandError(2, "Role names must be either strings or objects")
        if not exists(*role):
            raise CommandError(31, f"Could not find role: {role[0]}@{role[1]}")
        if role not in roles:
            roles.append(role)
    return roles


def _mechanisms(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise CommandError(2, "mechanisms field must not be empty")
    for mech in value:
        if mech not in MECHANISMS:
            raise CommandError(2, f"Unknown auth mechanism '{mech}'")
    return list(dict.fromkeys(value))


def _password(body: dict[str, Any], field: str) -> str:
    pwd = body.get("pwd")
    if not isinstance(pwd, str):
        raise CommandError(
            14, f"BSON field '{field}.pwd' is the wrong type, expected type 'string'"
        )
    if not pwd:
        raise CommandError(2, "Password cannot be empty")
    return pwd


def _user(ctx: OpContext, name: str) -> User:
    auth = ctx.state.auth  # only createUser makes the user table
    user = auth.users.get((name, ctx.db)) if auth is not None else None
    if user is None:
        raise CommandError(11, f"User '{name}@{ctx.db}' not found")
    return user


@command("createUser")
async def create_user(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body, "createUser")
    if "pwd" not in body:
        raise CommandError(
            2,
            "Must provide a 'pwd' field for all user documents, except those with "
            "'$external' as the user's source db",
        )
    if "roles" not in body:
        raise CommandError(40414, "BSON field 'createUser.roles' is missing but a required field")
    password = _password(body, "createUser")
    roles = _roles(ctx, body["roles"], "createUser")
    mechanisms = _mechanisms(body.get("mechanisms"))
    auth = _auth(ctx)
    if (name, ctx.db) in auth.users:
        raise CommandError(51003, f'User "{name}@{ctx.db}" already exists')
    user = auth.create(name, ctx.db, password, roles, mechanisms)
    if isinstance(body.get("customData"), dict):
        user.custom_data = body["customData"]
    return {"ok": 1.0}


@command("updateUser")
async def update_user(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, _name(body, "updateUser"))
    roles = _roles(ctx, body["roles"], "updateUser") if "roles" in body else None
    mechanisms = _mechanisms(body.get("mechanisms"))
    if "pwd" in body:
        user.set_password(_password(body, "updateUser"), mechanisms)
    elif mechanisms is not None:
        user.credentials = {m: c for m, c in user.credentials.items() if m in mechanisms}
    if roles is not None:
        user.roles = roles
    if isinstance(body.get("customData"), dict):
        user.custom_data = body["customData"]
    return {"ok": 1.0}


@command("dropUser")
async def drop_user(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, _name(body, "dropUser"))
    del _auth(ctx).users[(user.name, user.db)]  # _user found it: the table exists
    return {"ok": 1.0}


@command("grantRolesToUser")
async def grant_roles(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, _name(body, "grantRolesToUser"))
    for role in _roles(ctx, body.get("roles"), "grantRolesToUser"):
        if role not in user.roles:
            user.roles.append(role)
    return {"ok": 1.0}


@command("revokeRolesFromUser")
async def revoke_roles(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, _name(body, "revokeRolesFromUser"))
    revoked = _roles(ctx, body.get("roles"), "revokeRolesFromUser")
    user.roles = [role for role in user.roles if role not in revoked]
    return {"ok": 1.0}


@command("usersInfo")
async def users_info(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Users as admin.system.users holds them, without their credentials."""
    value = body.get("usersInfo")
    auth = ctx.state.auth
    users = list(auth.users.values()) if auth is not None else []
    if isinstance(value, dict) and value.get("forAllDBs") is True:
        chosen = users
    elif value == 1 or (isinstance(value, int | float) and not isinstance(value, bool)):
        chosen = [u for u in users if u.db == ctx.db]
    else:
        wanted = set()
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                wanted.add((item, ctx.db))
            elif isinstance(item, dict) and "user" in item:
                wanted.add((item.get("user"), item.get("db", ctx.db)))
            else:
                raise CommandError(2, "User name must be either a string or an object")
        chosen = [u for u in users if (u.name, u.db) in wanted]
    return {"users": [_info(u) for u in chosen], "ok": 1.0}


def _info(user: User) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": f"{user.db}.{user.name}",
        "userId": Binary.from_uuid(user.user_id, UuidRepresentation.STANDARD),
        "user": user.name,
        "db": user.db,
    }
    if user.custom_data is not None:
        doc["customData"] = user.custom_data
    doc["roles"] = [{"role": role, "db": db} for role, db in user.roles]
    doc["mechanisms"] = sorted(user.credentials)
    return doc
