"""An on-disk cache of built knowledge, so that a new process skips parsing and validation.

Loading the knowledge means reading TOML, validating every entry with pydantic,
checking every reference, building the graph and the per-context indexes. The
result depends only on the bytes of the knowledge files and on the code that
reads them, so :func:`sirecommend.load_knowledge` stores it, pickled, under a key
made of both, and a later process with the same key loads it in a few
milliseconds. Any problem with the cache (missing, unreadable, stale, corrupt,
a read-only disk) only means the knowledge is built again: it is never an error.

Where: ``$SIRECOMMEND_CACHE_DIR`` if set (set it to an empty string to turn the
cache off), else ``$XDG_CACHE_HOME/sirecommend`` or ``~/.cache/sirecommend``
(``%LOCALAPPDATA%\\sirecommend`` on Windows). Like any pickle, a cache file runs
code when loaded: the directory must be writable only by you, as your home is.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sirecommend._kb import KnowledgeBase

__all__ = [
    "CACHE_ENV",
    "KEEP",
    "cache_dir",
    "cache_key",
    "cached",
    "read_cache",
    "write_cache",
]

#: The environment variable naming the cache directory ("" turns the cache off).
CACHE_ENV = "SIRECOMMEND_CACHE_DIR"

_SUFFIX = ".kb.pickle"


def cache_dir() -> Path | None:
    """The directory the knowledge cache lives in, or ``None`` when caching is off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sirecommend"


def _code_stamp() -> bytes:
    """What identifies the code that builds and reads the knowledge.

    The versions of Python, pydantic and networkx (their objects are pickled), and
    the name, size and modification time of every module of this package, so that
    editing the code (as in a development checkout) never reuses an older build.
    """
    import networkx
    import pydantic

    from sirecommend._version import __version__

    parts = [sys.version, pydantic.VERSION, networkx.__version__, __version__]
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        parts.append(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts).encode()


def cache_key(files: Sequence[tuple[str, bytes]], packs: tuple[str, ...]) -> str:
    """The cache key of knowledge built from ``files`` (label, bytes) for ``packs``."""
    h = hashlib.sha256(_code_stamp())
    for name in packs:
        h.update(b"\0pack\0" + name.encode())
    for label, data in files:
        h.update(b"\0file\0" + label.encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def _mapping_proxy(items: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(items)


def _reduce_proxy(
    proxy: MappingProxyType[Any, Any],
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    return _mapping_proxy, (dict(proxy),)


def read_cache(key: str, directory: Path | None = None) -> KnowledgeBase | None:
    """The knowledge stored under ``key``, or ``None`` (missing, unreadable or corrupt)."""
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return None
    try:
        data = (directory / f"{key}{_SUFFIX}").read_bytes()
    except OSError:
        return None
    try:
        kb = pickle.loads(data)
    except Exception:  # a truncated or foreign file: build again
        return None
    return kb if isinstance(kb, KnowledgeBase) else None


def write_cache(key: str, kb: KnowledgeBase, directory: Path | None = None) -> bool:
    """Store ``kb`` under ``key``; ``False`` when it cannot be (caching off, read-only disk).

    The file is written aside and renamed into place, so a reader never sees half a file.
    """
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return False
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    # Read-only mappings pickle as plain dicts wrapped again on load; registered on
    # this pickler only, so nothing changes for anyone else's pickling.
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[MappingProxyType] = _reduce_proxy
    pickler.dump(kb)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(buffer.getvalue())
            os.replace(tmp, directory / f"{key}{_SUFFIX}")
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    _prune(directory)
    return True


#: Most knowledge builds the cache keeps: each code or knowledge change makes a new one.
KEEP = 8


def _prune(directory: Path) -> None:
    """Remove all but the :data:`KEEP` most recently written builds (best effort)."""
    try:
        files = sorted(
            directory.glob(f"*{_SUFFIX}"), key=lambda f: f.stat().st_mtime_ns, reverse=True
        )
        for old in files[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:  # a file removed meanwhile, by another process: nothing to do
        pass


def cached(
    files: Sequence[tuple[str, bytes]], packs: tuple[str, ...], build: Callable[[], KnowledgeBase]
) -> KnowledgeBase:
    """The knowledge for ``files`` from the cache, or ``build()`` it and store it."""
    directory = cache_dir()
    if directory is None:
        return build()
    key = cache_key(files, packs)
    kb = read_cache(key, directory)
    if kb is None:
        kb = build()
        write_cache(key, kb, directory)
    return kb
