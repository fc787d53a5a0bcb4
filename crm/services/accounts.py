"""Workspaces, users and API keys."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from crm.database import writes
from crm.extensions import db
from crm.models import ROLES, SCOPES, ApiKey, Installation, User, UserSession, Workspace, utcnow
from crm.services.errors import AlreadySetUp, AmbiguousReference, NotFound, ValidationFailed

KEY_PREFIX = "fu_"
LAST_USED_RESOLUTION = timedelta(seconds=60)


@writes
def create_workspace(name: str, *, commit: bool = True) -> Workspace:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "Must not be blank.")
    workspace = Workspace(name=name[:255])
    db.session.add(workspace)
    if commit:
        db.session.commit()
    return workspace


def find_workspace(id_or_name: str) -> Workspace | None:
    return db.session.execute(
        select(Workspace).where((Workspace.id == id_or_name) | (Workspace.name == id_or_name)).order_by(Workspace.created_at)
    ).scalars().first()


def first_workspace() -> Workspace | None:
    return db.session.execute(select(Workspace).order_by(Workspace.created_at, Workspace.id)).scalars().first()


def user_count() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


def valid_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@writes
def create_user(
    workspace: Workspace, *, email: str, name: str, password: str | None = None, role: str = "member",
    time_zone: str = "UTC", commit: bool = True,
) -> User:
    email = (email or "").strip().lower()
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 320:
        errors["email"] = ["Not a valid email address."]
    elif db.session.execute(select(User.id).where(User.email == email, User.workspace_id == workspace.id)).first():
        # Only this workspace is asked: an e-mail in another workspace is no one's business here.
        errors["email"] = ["A user with this email already exists in this workspace."]
    if not name:
        errors["name"] = ["Must not be blank."]
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if not valid_time_zone(time_zone):
        errors["time_zone"] = ["Not a known IANA time zone."]
    if password is not None and len(password) < 8:
        errors["password"] = ["At least 8 characters."]
    if errors:
        raise ValidationFailed(errors)
    user = User(
        workspace_id=workspace.id,
        email=email,
        name=name[:255],
        role=role,
        time_zone=time_zone,
        password_hash=generate_password_hash(password) if password else None,
    )
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def is_set_up() -> bool:
    return user_count() > 0 or db.session.get(Installation, 1) is not None


@writes
def setup_first_admin(*, workspace_name: str, email: str, name: str, password: str) -> User:
    """A fresh install's workspace and first admin, both or neither, and only once: the
    installation row goes in with them, and a concurrent set-up collides with its key."""
    if is_set_up():
        raise AlreadySetUp()
    if not password:
        raise ValidationFailed.field("password", "At least 8 characters.")
    db.session.add(Installation(id=1))
    try:
        db.session.flush()  # a concurrent set-up waits here for the first to end, then collides
    except IntegrityError:
        db.session.rollback()
        raise AlreadySetUp() from None
    try:
        workspace = create_workspace(workspace_name, commit=False)
    except ValidationFailed as exc:
        raise ValidationFailed({"workspace": exc.details["name"]}) from None
    user = create_user(workspace, email=email, name=name, password=password, role="admin", commit=False)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if is_set_up():  # another set-up got in first
            raise AlreadySetUp() from None
        raise
    return user


def workspace_users(workspace_id: str, *, include_inactive: bool = False) -> list[User]:
    stmt = select(User).where(User.workspace_id == workspace_id)
    if not include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    return list(db.session.execute(stmt.order_by(User.name, User.id)).unique().scalars())


MAX_PEOPLE_CANDIDATES = 10


def find_users(workspace_id: str, query: str, limit: int = MAX_PEOPLE_CANDIDATES) -> list[User]:
    """The active people the owner picker offers for `query`: every word of it in the name, or
    the query in the email; an exact name first, then by name. A workspace's people are few, so
    they are read once and matched here, case and accents as typed (casefold)."""
    wanted = " ".join(query.casefold().split())
    if not wanted:
        return []
    words = wanted.split()
    found = [user for user in workspace_users(workspace_id)
             if all(word in user.name.casefold() for word in words) or wanted in user.email.casefold()]
    found.sort(key=lambda user: (user.name.casefold() != wanted and user.email.casefold() != wanted,
                                 user.name.casefold(), user.id))
    return found[:limit]


def resolve_user_name(workspace_id: str, query: str) -> str:
    """The id of the one active person `query` names (a name or an email, exactly or by its
    words), as the record pickers resolve names (SPEC §3)."""
    found = find_users(workspace_id, query, limit=MAX_PEOPLE_CANDIDATES + 1)
    wanted = " ".join(query.casefold().split())
    exact = [user for user in found if wanted in (user.name.casefold(), user.email.casefold())]
    rows = exact or found
    if not rows:
        raise ValidationFailed.field("owner", f'No one in this workspace matches "{query}".')
    if len(rows) == 1:
        return rows[0].id
    raise AmbiguousReference("owner", query, [{"id": user.id, "name": user.name}
                                              for user in rows[:MAX_PEOPLE_CANDIDATES]])


def get_workspace_user(workspace_id: str, user_id: str) -> User:
    user = db.session.execute(
        select(User).where(User.id == user_id, User.workspace_id == workspace_id)
    ).unique().scalar_one_or_none()
    if user is None:
        raise NotFound("No such user.")
    return user


@writes
def set_user_active(admin: User, user: User, active: bool) -> User:
    """Admins remove users by deactivating them: their tasks and history stay, sign-in and keys stop."""
    if not admin.is_admin or admin.workspace_id != user.workspace_id:
        raise NotFound("No such user.")
    if user.id == admin.id and not active:
        raise ValidationFailed.field("user", "You cannot remove yourself.")
    user.is_active = active
    if not active:
        _delete_sessions(user.id)  # reactivating later must not revive them
    db.session.commit()
    return user


def find_user_by_email(email: str, workspace_id: str | None = None) -> User | None:
    """The user with this e-mail (in that workspace, if given). An e-mail may be in several
    workspaces; without a workspace, that is a validation error naming the choice to make."""
    stmt = select(User).where(User.email == (email or "").strip().lower())
    if workspace_id is not None:
        stmt = stmt.where(User.workspace_id == workspace_id)
    users = list(db.session.execute(stmt.limit(2)).unique().scalars())
    if len(users) > 1:
        raise ValidationFailed.field("email", "This email is in several workspaces; name the workspace.")
    return users[0] if users else None


_dummy_hash: str | None = None


def _unknown_password_hash() -> str:
    """A hash made like every real one (same method and cost), checked for unknown e-mails."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def _password_checks_per_sign_in() -> int:
    """Every sign-in checks as many hashes as the e-mail with the most accounts has, whatever
    e-mail is given: the time then says nothing about which workspaces an e-mail is in."""
    most = db.session.execute(
        select(func.count()).select_from(User).where(User.is_active.is_(True), User.password_hash.is_not(None))
        .group_by(User.email).order_by(func.count().desc()).limit(1)
    ).scalar()
    return max(most or 0, 1)


def authenticate_password(email: str, password: str) -> User | None:
    """The active user this e-mail and password sign in, or None. The work is the same for
    unknown e-mails, inactive users and wrong passwords: the same number of hash checks."""
    dummy = _unknown_password_hash()  # made before the look-up, so its one-off cost falls on every path
    candidates = list(db.session.execute(
        select(User).where(User.email == (email or "").strip().lower(), User.is_active.is_(True),
                           User.password_hash.is_not(None))
        .order_by(User.created_at, User.id)
    ).unique().scalars())
    password = password or ""
    matched = None
    for user in candidates:  # all of them, not up to the first match
        if check_password_hash(user.password_hash, password) and matched is None:
            matched = user
    for _ in range(_password_checks_per_sign_in() - len(candidates)):
        check_password_hash(dummy, password)
    return matched


def check_password(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash or not user.is_active:
        check_password_hash(_unknown_password_hash(), password or "")  # the same work as a real check
        return False
    return check_password_hash(user.password_hash, password or "")


@writes
def set_password(user: User, password: str, *, keep_session: str | None = None) -> None:
    """A new password ends every session of the user (except `keep_session`: the browser of a
    user who changed their own password)."""
    if len(password or "") < 8:
        raise ValidationFailed.field("password", "At least 8 characters.")
    user.password_hash = generate_password_hash(password)
    _delete_sessions(user.id, keep=keep_session)
    db.session.commit()


@writes
def change_own_password(user: User, current_password: str, new_password: str, *,
                        keep_session: str | None = None) -> None:
    """A user changes their own password: the current one first; every other session ends."""
    if not check_password(user, current_password):
        raise ValidationFailed.field("current_password", "That is not your current password.")
    set_password(user, new_password, keep_session=keep_session)


@writes
def admin_set_password(admin: User, user: User, password: str, *, keep_session: str | None = None) -> None:
    """An admin sets a password for a user of their workspace; that user's sessions end."""
    if not admin.is_admin or admin.workspace_id != user.workspace_id:
        raise NotFound("No such user.")
    set_password(user, password, keep_session=keep_session if user.id == admin.id else None)


# --- browser sessions ---------------------------------------------------------------------
# The cookie (signed with SECRET_KEY) holds a random token; the table holds its SHA-256, so a
# copy of the database does not hold live sessions.


def _session_row_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@writes
def start_session(user: User, lifetime: timedelta) -> str:
    """A new session for the user; returns the token the cookie carries. Commits."""
    token = secrets.token_urlsafe(32)
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id, UserSession.created_at < utcnow() - lifetime))
    db.session.add(UserSession(id=_session_row_id(token), user_id=user.id))
    db.session.commit()
    return token


_sessions = UserSession.__table__
# Every signed-in page runs this: one look-up by primary key, joined to the user.
_LIVE_SESSION = (
    select(User)
    .join(_sessions, _sessions.c.user_id == User.id)
    .where(_sessions.c.id == bindparam("row_id"), User.id == bindparam("user_id"), User.is_active.is_(True),
           _sessions.c.created_at >= bindparam("not_before"))
)


def session_user(user_id: str, token: str | None, lifetime: timedelta) -> User | None:
    """The active user of a live session, or None once it was ended or has expired."""
    if not token or not user_id or len(token) > 200:
        return None
    return db.session.execute(_LIVE_SESSION, {
        "row_id": _session_row_id(token), "user_id": user_id, "not_before": utcnow() - lifetime,
    }).unique().scalar_one_or_none()


@writes
def end_session(token: str | None) -> None:
    """Sign-out: this session's cookie stops working, wherever a copy of it is. Commits."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.id == _session_row_id(token)))
        db.session.commit()


def _delete_sessions(user_id: str, keep: str | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        stmt = stmt.where(UserSession.id != _session_row_id(keep))
    db.session.execute(stmt)


@writes
def sign_out_everywhere(admin: User, user: User) -> int:
    """An admin ends every session of a user of their workspace; returns how many ended."""
    if not admin.is_admin or admin.workspace_id != user.workspace_id:
        raise NotFound("No such user.")
    ended = db.session.execute(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)).scalar_one()
    _delete_sessions(user.id)
    db.session.commit()
    return ended


@writes
def set_time_zone(user: User, time_zone: str) -> None:
    if not valid_time_zone(time_zone):
        raise ValidationFailed.field("time_zone", "Not a known IANA time zone.")
    user.time_zone = time_zone
    db.session.commit()


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str | None) -> list[str]:
    if text is None or text.strip() in ("", "all", "*"):
        return list(SCOPES)
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed.field("scopes", f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")
    return list(dict.fromkeys(scopes))


@writes
def create_api_key(user: User, *, scopes: list[str] | None = None, label: str | None = None) -> tuple[ApiKey, str]:
    """A new key for the user. Returns (key, secret); the secret is not kept and cannot be shown again."""
    scopes = list(SCOPES) if scopes is None else scopes
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        workspace_id=user.workspace_id,
        user_id=user.id,
        label=(label or "").strip()[:255] or None,
        scopes=",".join(scopes),
        prefix=secret[:10],
        secret_hash=hash_secret(secret),
    )
    db.session.add(key)
    db.session.commit()
    return key, secret


@dataclass(frozen=True)
class Caller:
    """Who an API request acts for: the live key that authenticated it, and that key's user."""

    key_id: str
    user_id: str
    workspace_id: str
    scopes: frozenset[str]
    last_used_at: datetime | None


_keys, _users = ApiKey.__table__, User.__table__
# Every API request runs this; built once (only its parameter changes).
_LIVE_KEY = (
    select(_keys.c.id, _keys.c.user_id, _keys.c.workspace_id, _keys.c.scopes, _keys.c.last_used_at)
    .join(_users, _users.c.id == _keys.c.user_id)
    .where(_keys.c.secret_hash == bindparam("secret_hash"), _keys.c.revoked_at.is_(None), _users.c.is_active)
)


def authenticate_key(secret: str) -> Caller | None:
    """The caller holding this secret, or None for unknown and revoked keys and inactive users."""
    if not secret or len(secret) > 200:
        return None
    row = db.session.execute(_LIVE_KEY, {"secret_hash": hash_secret(secret)}).first()
    if row is None:
        return None
    key_id, user_id, workspace_id, scopes, last_used_at = row
    return Caller(key_id, user_id, workspace_id, frozenset(s for s in scopes.split(",") if s), last_used_at)


def needs_touch(caller: Caller) -> bool:
    """Last use is recorded at most once a minute per key, so reads rarely turn into writes."""
    return caller.last_used_at is None or utcnow() - caller.last_used_at >= LAST_USED_RESOLUTION


def touch_api_key(key_id: str) -> None:
    """Record that the key was used now, in a transaction of its own."""
    from crm.database import writing

    with writing():
        db.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
        db.session.commit()


def has_scope(scopes: frozenset[str], scope: str) -> bool:
    """A :write scope also grants :read; any :write scope grants `users:read` (a key that writes
    assigns owners, so it may read who they are)."""
    if scope in scopes:
        return True
    resource, _, action = scope.partition(":")
    if action != "read":
        return False
    if resource == "users":
        return any(s.endswith(":write") for s in scopes)
    return f"{resource}:write" in scopes


def list_api_keys(user: User) -> list[ApiKey]:
    return list(
        db.session.execute(
            select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        ).unique().scalars()
    )


@writes
def revoke_api_key(user: User, key_id: str) -> ApiKey:
    key = db.session.execute(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id)
    ).unique().scalar_one_or_none()
    if key is None:
        raise NotFound("No such API key.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    return key
