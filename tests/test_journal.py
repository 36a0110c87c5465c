"""The local journal: durable, migrated, safe with readers and a killed writer."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sirecommend import InvalidArgumentError, UnknownIdError
from sirecommend import journal as journal_module
from sirecommend._feedback import Feedback, Session
from sirecommend._loader import knowledge_from_packs
from sirecommend._models import PackFile
from sirecommend.journal import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Journal,
    JournalCorruptError,
    JournalError,
    JournalVersionError,
    default_journal_path,
)


def session(n: int, pain: int = 1, ctx: str = "after_sitting") -> Session:
    return Session(
        date=dt.date(2026, 1, 1) + dt.timedelta(days=n),
        context=ctx,
        feedback=(Feedback(stretch_id="hamstring_supine", sets_done=2, pain_during=pain),),
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "journal.sqlite3"


def test_record_and_read_oldest_first(path: Path) -> None:
    j = Journal(path)
    assert j.sessions() == ()
    assert not path.exists()  # reading never creates the file
    for n in (3, 1, 2):
        assert j.record(session(n))
    assert [s.date.day for s in Journal(path).sessions()] == [2, 3, 4]
    assert Journal(path).sessions()[0] == session(1)
    assert repr(j) == f"Journal({str(path)!r})"


def test_the_same_session_twice_is_kept_once(path: Path) -> None:
    j = Journal(path)
    assert j.record(session(1))
    assert not j.record(session(1))
    assert j.record(session(1, pain=2))
    assert len(j.sessions()) == 2


def test_file_is_wal_and_versioned(path: Path) -> None:
    Journal(path).record(session(1))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_bad_input_changes_nothing(path: Path) -> None:
    j = Journal(path)
    j.record(session(1))
    with pytest.raises(InvalidArgumentError):
        j.record({"date": "2026-01-01"})  # type: ignore[arg-type]
    bad = session(2).model_copy(update={"context": "after_sittin"})
    with pytest.raises(UnknownIdError):
        j.record(bad)
    assert j.sessions() == (session(1),)
    with pytest.raises(UnknownIdError):  # checked against the knowledge given
        j.record(session(2, ctx="warm_up"), knowledge=knowledge_from_packs(PackFile()))
    assert j.sessions() == (session(1),)
    with pytest.raises(InvalidArgumentError, match="KnowledgeBase"):
        j.record(session(2), knowledge="shipped")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        Journal(42)  # type: ignore[arg-type]


def test_a_failed_insert_rolls_back(path: Path) -> None:
    class Failing(Journal):
        def _insert(self, conn: sqlite3.Connection, s: Session, body: str) -> None:
            super()._insert(conn, s, body)
            raise RuntimeError("disk on fire")

    Journal(path).record(session(1))
    with pytest.raises(RuntimeError):
        Failing(path).record(session(2))
    assert Journal(path).sessions() == (session(1),)


def bytes_of(p: Path) -> bytes:
    return p.read_bytes()


def test_corrupt_file_is_an_error_and_untouched(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database at all, " * 200)
    before = bytes_of(path)
    for call in (Journal(path).sessions, lambda: Journal(path).record(session(1))):
        with pytest.raises(JournalCorruptError, match="damaged or not SQLite"):
            call()
    assert bytes_of(path) == before


def test_another_apps_database_is_left_alone(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with closing_db(path) as conn:
        conn.execute("CREATE TABLE notes (x)")
    before = bytes_of(path)
    with pytest.raises(JournalCorruptError, match="not a sirecommend journal"):
        Journal(path).record(session(1))
    with pytest.raises(JournalError):
        Journal(path).sessions()
    assert bytes_of(path) == before


def test_newer_schema_is_refused(path: Path) -> None:
    Journal(path).record(session(1))
    with closing_db(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = bytes_of(path)
    for call in (Journal(path).sessions, lambda: Journal(path).record(session(2))):
        with pytest.raises(JournalVersionError, match="newer"):
            call()
    assert bytes_of(path) == before


def test_an_invalid_row_is_reported(path: Path) -> None:
    Journal(path).record(session(1))
    with closing_db(path) as conn:
        conn.execute("UPDATE sessions SET body = '{\"date\": 5}'")
    with pytest.raises(JournalCorruptError, match="row 1 is not a valid session"):
        Journal(path).sessions()


def test_an_empty_file_reads_as_empty(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.touch()
    assert Journal(path).sessions() == ()
    assert Journal(path).record(session(1))
    assert len(Journal(path).sessions()) == 1


def write_v1(path: Path, *sessions: Session) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing_db(path) as conn:
        journal_module.MIGRATIONS[0](conn)
        for s in sessions:
            conn.execute(
                "INSERT INTO sessions (date, context, body) VALUES (?, ?, ?)",
                (s.date.isoformat(), s.context, s.model_dump_json()),
            )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 1")


def test_an_old_file_is_read_then_migrated_on_write(path: Path) -> None:
    write_v1(path, session(2), session(1))
    assert Journal(path).sessions() == (session(1), session(2))
    assert not Journal(path).record(session(1))  # the migration keyed the old rows
    with closing_db(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert Journal(path).record(session(3))
    assert len(Journal(path).sessions()) == 3


def test_a_failed_migration_keeps_the_old_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_v1(path, session(1))

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN key TEXT")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(journal_module, "MIGRATIONS", (journal_module.MIGRATIONS[0], broken))
    with pytest.raises(RuntimeError):
        Journal(path).record(session(2))
    with closing_db(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        columns = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")]
    assert columns == ["id", "date", "context", "body"]
    assert Journal(path).sessions() == (session(1),)


class closing_db:  # noqa: N801 - used as a context manager, like contextlib.closing
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


KILLED_WRITER = """
import datetime as dt, sys, time
from sirecommend.journal import Journal
from sirecommend._feedback import Session

class Stalled(Journal):
    def _insert(self, conn, session, body):
        super()._insert(conn, session, body)
        print("inside", flush=True)
        time.sleep(120)

Stalled(sys.argv[1]).record(Session(date=dt.date(2026, 1, 20), context="after_sitting"))
"""


def test_a_killed_writer_loses_nothing(path: Path) -> None:
    j = Journal(path)
    for n in range(3):
        j.record(session(n))
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "inside"  # its transaction is open
        assert len(Journal(path).sessions()) == 3  # readers go on during the write
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert Journal(path).sessions() == tuple(session(n) for n in range(3))
    assert Journal(path).record(session(9))  # the lock is gone, the file is sound
    assert len(Journal(path).sessions()) == 4


def test_readers_and_a_writer_at_once(path: Path) -> None:
    Journal(path).record(session(0))
    errors: list[BaseException] = []
    seen: list[list[int]] = [[] for _ in range(3)]
    done = threading.Event()

    def read(k: int) -> None:
        try:
            while not done.is_set():
                seen[k].append(len(Journal(path).sessions()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read, args=(k,)) for k in range(3)]
    for t in readers:
        t.start()
    try:
        for n in range(1, 21):
            Journal(path).record(session(n))
    finally:
        done.set()
        for t in readers:
            t.join()
    assert errors == []
    assert len(Journal(path).sessions()) == 21
    for counts in seen:
        assert counts == sorted(counts)  # each reader sees a growing, committed prefix
        assert all(1 <= c <= 21 for c in counts)


class TestDefaultPath:
    def test_env_var(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("SIRECOMMEND_JOURNAL", str(tmp_path / "j.db"))
        assert default_journal_path() == tmp_path / "j.db"
        assert Journal().path == tmp_path / "j.db"

    @pytest.mark.parametrize(
        ("platform", "env", "value", "expected"),
        [
            ("linux", "XDG_DATA_HOME", "/data", "/data/sirecommend/journal.sqlite3"),
            ("linux", "XDG_DATA_HOME", "", "HOME/.local/share/sirecommend/journal.sqlite3"),
            (
                "darwin",
                "XDG_DATA_HOME",
                "/data",
                "HOME/Library/Application Support/sirecommend/journal.sqlite3",
            ),
            ("win32", "LOCALAPPDATA", "/appdata", "/appdata/sirecommend/journal.sqlite3"),
            ("win32", "LOCALAPPDATA", "", "HOME/AppData/Local/sirecommend/journal.sqlite3"),
        ],
    )
    def test_platform_dirs(
        self,
        monkeypatch: pytest.MonkeyPatch,
        platform: str,
        env: str,
        value: str,
        expected: str,
    ) -> None:
        monkeypatch.delenv("SIRECOMMEND_JOURNAL", raising=False)
        monkeypatch.setenv("HOME", "/home/x")
        monkeypatch.setenv(env, value)
        monkeypatch.setattr(sys, "platform", platform)
        assert default_journal_path() == Path(expected.replace("HOME", "/home/x"))
