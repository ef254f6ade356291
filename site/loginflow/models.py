"""The two tables: who can sign in (User), and each browser that is signed in (SignIn)."""

import secrets
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from flask_login import UserMixin
from sqlalchemy import (
    CursorResult,
    DateTime,
    ForeignKey,
    Index,
    Select,
    String,
    UpdateBase,
    bindparam,
    false,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, contains_eager, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import Model, db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite and PostgreSQL then compare alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class User(UserMixin, Model):
    __tablename__ = "users"
    # `current_sign_in` below is per-request state, not a column.
    __allow_unmapped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    # Raised by every password change. A SignIn made with an older version is dead, even
    # one whose password check was under way while the change committed.
    password_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The database, not a check-then-insert, keeps "Alice" and "alice" from both existing.
    __table_args__ = (
        Index("ix_users_username_lower", func.lower(username), unique=True),
        # SQLite would give a deleted newest account's id to the next: its sign-ins' cookies too.
        {"sqlite_autoincrement": True},
    )

    #: The SignIn this object was loaded through; set by the user loader and by sign-in.
    current_sign_in: "SignIn | None" = None

    @classmethod
    def named(cls, username: str) -> Select["User"]:
        """The account with this username, in any case: "Alice" signs in as alice."""
        if "\x00" in username:
            # No username holds NUL, and PostgreSQL refuses it in a query: match nothing.
            return select(cls).where(false())
        return select(cls).where(func.lower(cls.username) == username.lower())

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the SignIn's session token, never the user's id.

        Revoking that row therefore ends every copy of the session cookie, and so does the
        next session begun on it, which draws a new token.
        """
        if self.current_sign_in is None:
            raise RuntimeError("A User gets an id for the session only through a SignIn.")
        return self.current_sign_in.session_token


class SignIn(Model):
    """One signed-in browser: what the session cookie and the remember cookie point to."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    # The browser's current session: the random token its session cookie holds, how it
    # began ("password" or "remember-me") and when. Not a secret on its own: a session
    # cookie must also be signed with SECRET_KEY, so it is stored as it is.
    session_token: Mapped[str] = mapped_column(String(32), unique=True)
    session_began_by: Mapped[str] = mapped_column(String(16))
    session_began_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The token a re-authentication replaced when this session began, still accepted for a
    # short grace (freshness.renewed_from). Indexed: any request may send any token, and a
    # miss must cost a lookup, not a scan of the table.
    previous_session_token: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    # The User's password_version when the password was checked for this sign-in.
    password_version: Mapped[int]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Remember-me: the cookie holds selector:validator; only sha256(validator) is stored,
    # so a copy of this table cannot be turned back into working cookies.
    remember_selector: Mapped[str | None] = mapped_column(String(32), unique=True)
    remember_validator_hash: Mapped[str | None] = mapped_column(String(64))
    remember_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The validator replaced at the last rotation, accepted for a short grace period.
    remember_previous_validator_hash: Mapped[str | None] = mapped_column(String(64))
    remember_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @staticmethod
    def new_session(how: str, *, replacing: str | None = None) -> dict[str, Any]:
        """The columns of a new browser session on a sign-in, begun by ``how`` ("password"
        or "remember-me"): a new token, so copies of the previous session cookie die, and
        a use, so the idle time restarts.

        ``replacing``: the token of the live session this one replaces, which then stays
        accepted for ``REMEMBER_ME_ROTATION_GRACE`` from now. Only a re-authentication
        passes one: a sign-in makes a new row, and a restore replaces a session that had
        already ended (an idled-out cookie must stay dead), so theirs is None.
        """
        now = utcnow()
        return {
            "session_token": secrets.token_urlsafe(16),
            "session_began_by": how,
            "session_began_at": now,
            "last_seen_at": now,
            "previous_session_token": replacing,
        }

    def remembered_at(self, moment: datetime) -> bool:
        """Whether this sign-in's remember cookie can still restore a session at ``moment``."""
        return self.remember_expires_at is not None and self.remember_expires_at > moment

    @classmethod
    @cache
    def live(cls) -> Select["SignIn"]:
        """Sign-ins not revoked and made with the current password, each with its user.

        One query; the one definition of "live" that the session and the remember cookie
        both use (timeouts are sign_ins.py's). Built once: a statement never changes, and
        building one costs a signed-in page about as much as running it.
        """
        return (
            select(cls)
            .join(cls.user)
            .options(contains_eager(cls.user))
            .where(cls.revoked_at.is_(None), cls.password_version == User.password_version)
        )

    @classmethod
    @cache
    def live_by(cls, column: str) -> Select["SignIn"]:
        """The live sign-in whose ``column`` equals the statement's parameter of that name.

        Every signed-in request runs one: built once per column, the statement also keeps
        its cache key, which SQLAlchemy would otherwise compute again each time.
        """
        return cls.live().where(getattr(cls, column) == bindparam(column))


def rows_matched(statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it matched."""
    # Session.execute is typed to return a Result; for UPDATE and DELETE it is a
    # CursorResult, which has the rowcount.
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount
