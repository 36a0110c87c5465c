"""A local journal of sessions: SQLite (standard library), so the next routine can use them.

``Journal(path).record(session)`` adds a :class:`~sirecommend.Session`;
``Journal(path).sessions()`` returns them oldest first. The file is an SQLite database
in WAL mode, marked with its own ``application_id`` and a schema version
(``user_version``) that is migrated forward inside a transaction when an older file is
opened. Every write is one ``BEGIN IMMEDIATE`` transaction: bad input is refused before
anything is written, and a writer killed half-way leaves the last committed state.
Many readers and one writer at a time are safe (each call opens its own connection;
writers wait up to :data:`BUSY_TIMEOUT` seconds for each other).

A file that is not a sirecommend journal, is damaged, or has a newer schema raises
:class:`JournalError` and is never rewritten.

The default path is the platform's user data directory (``$XDG_DATA_HOME`` or
``~/.local/share`` on Linux, ``~/Library/Application Support`` on macOS,
``%LOCALAPPDATA%`` on Windows) plus ``sirecommend/journal.sqlite3``; the
``SIRECOMMEND_JOURNAL`` environment variable overrides it.

Examples
--------
>>> import datetime as dt, tempfile, pathlib
>>> from sirecommend.journal import Journal
>>> from sirecommend._feedback import Feedback, Session
>>> path = pathlib.Path(tempfile.mkdtemp()) / "journal.sqlite3"
>>> j = Journal(path)
>>> j.record(Session(date=dt.date(2026, 1, 2), context="after_sitting",
...                  feedback=[Feedback(stretch_id="hamstring_supine", sets_done=2,
...                                     pain_during=2)]))
True
>>> [s.date.isoformat() for s in Journal(path).sessions()]
['2026-01-02']
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from pydantic import ValidationError

from sirecommend._feedback import Session, check_session
from sirecommend._kb import KnowledgeBase
from sirecommend.errors import InvalidArgumentError, SirecommendError

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT",
    "ENV_VAR",
    "SCHEMA_VERSION",
    "Journal",
    "JournalCorruptError",
    "JournalError",
    "JournalVersionError",
    "default_journal_path",
]

#: Marks the SQLite file as a sirecommend journal ("SIRJ").
APPLICATION_ID = 0x5349524A
#: The schema version this code writes; older files are migrated, newer ones refused.
SCHEMA_VERSION = 2
#: Environment variable naming the journal file.
ENV_VAR = "SIRECOMMEND_JOURNAL"
#: Seconds a writer waits for another writer before giving up.
BUSY_TIMEOUT = 10.0


class JournalError(SirecommendError):
    """The journal file cannot be used as it is; it has not been changed."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"journal {path}: {message}")


class JournalCorruptError(JournalError):
    """The file is damaged or is not a sirecommend journal."""


class JournalVersionError(JournalError):
    """The file was written by a newer sirecommend (a newer schema version)."""


def default_journal_path() -> Path:
    """The journal file: ``$SIRECOMMEND_JOURNAL``, else the platform's user data dir.

    >>> import os
    >>> os.environ["SIRECOMMEND_JOURNAL"] = "/tmp/j.sqlite3"
    >>> str(default_journal_path())
    '/tmp/j.sqlite3'
    >>> del os.environ["SIRECOMMEND_JOURNAL"]
    """
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "sirecommend" / "journal.sqlite3"


def _key(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, date TEXT NOT NULL, "
        "context TEXT NOT NULL, body TEXT NOT NULL)"
    )


def _v2(conn: sqlite3.Connection) -> None:
    """Version 2: a content key per session, so recording the same session twice is a no-op."""
    conn.execute("ALTER TABLE sessions ADD COLUMN key TEXT")
    rows = conn.execute("SELECT id, body FROM sessions").fetchall()
    conn.executemany("UPDATE sessions SET key = ? WHERE id = ?", [(_key(b), i) for i, b in rows])
    conn.execute("CREATE INDEX sessions_key ON sessions (key)")
    conn.execute("CREATE INDEX sessions_date ON sessions (date, id)")


#: ``MIGRATIONS[n]`` takes a file from version ``n`` to ``n + 1``.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2)


class Journal:
    """The sessions a person has logged, in one SQLite file (see the module docs).

    Parameters
    ----------
    path : str or os.PathLike, optional
        The file (default :func:`default_journal_path`). It is created, with its
        directory, on the first :meth:`record`; reading a missing file gives no sessions.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise InvalidArgumentError(f"path must be a str or a path, not {type(path).__name__}")
        self.path = Path(path) if path is not None else default_journal_path()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        with closing(
            sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        ) as conn:
            try:
                self._check(conn, write=write)
                yield conn
            except sqlite3.DatabaseError as exc:
                raise JournalCorruptError(self.path, f"damaged or not SQLite ({exc})") from exc

    def _check(self, conn: sqlite3.Connection, *, write: bool) -> None:
        """Refuse a file that is not ours or is newer, before changing anything."""
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != APPLICATION_ID and (app or version or tables):
            raise JournalCorruptError(self.path, "not a sirecommend journal; left untouched")
        if version > SCHEMA_VERSION:
            raise JournalVersionError(
                self.path,
                f"schema version {version} is newer than this sirecommend knows "
                f"({SCHEMA_VERSION}); upgrade sirecommend to read it",
            )
        if app == APPLICATION_ID:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":  # pragma: no cover - quick_check reports, damage mostly raises
                raise JournalCorruptError(self.path, f"damaged ({ok})")
        if write:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in MIGRATIONS[version:]:
                step(conn)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _insert(self, conn: sqlite3.Connection, session: Session, body: str) -> None:
        conn.execute(
            "INSERT INTO sessions (date, context, body, key) VALUES (?, ?, ?, ?)",
            (session.date.isoformat(), session.context, body, _key(body)),
        )

    def record(self, session: Session, *, knowledge: KnowledgeBase | None = None) -> bool:
        """Add ``session``; ``False`` when the very same session is recorded already.

        Raises
        ------
        InvalidArgumentError
            ``session`` is not a :class:`~sirecommend.Session`.
        UnknownIdError
            An id in it is not in ``knowledge`` (default: the shipped knowledge).
        JournalError
            The file is damaged, not a journal, or newer (nothing is written).
        """
        if not isinstance(session, Session):
            raise InvalidArgumentError(f"record() takes a Session, not {type(session).__name__}")
        if knowledge is None:
            from sirecommend._loader import load_knowledge

            knowledge = load_knowledge()
        elif not isinstance(knowledge, KnowledgeBase):
            raise InvalidArgumentError(
                f"knowledge must be a KnowledgeBase, not {type(knowledge).__name__}"
            )
        check_session(session, knowledge)
        body = session.model_dump_json()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                seen = conn.execute("SELECT 1 FROM sessions WHERE key = ?", (_key(body),))
                if seen.fetchone() is not None:
                    conn.execute("ROLLBACK")
                    return False
                self._insert(conn, session, body)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return True

    def sessions(self) -> tuple[Session, ...]:
        """Every session recorded, oldest first (by date, then by when it was recorded).

        Raises
        ------
        JournalError
            The file is damaged, not a journal, newer, or holds a row that is not a
            valid session.
        """
        if not self.path.exists():
            return ()
        with self._connect(write=False) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                return ()  # an empty file: nothing recorded yet
            rows = conn.execute("SELECT id, body FROM sessions ORDER BY date, id").fetchall()
        out = []
        for row_id, body in rows:
            try:
                out.append(Session.model_validate_json(body))
            except ValidationError as exc:
                raise JournalCorruptError(
                    self.path, f"row {row_id} is not a valid session: {exc.errors()[0]['msg']}"
                ) from exc
        return tuple(out)
