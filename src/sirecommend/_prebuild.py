"""Write the shipped knowledge, compiled, as Python source inside the package.

``python -m sirecommend._prebuild`` loads the shipped knowledge the slow way (read the
TOML, validate every entry, merge, check, build the graph, compile it, derive the audit's
facts) and writes the result as :mod:`sirecommend._prebuilt`: plain Python that rebuilds
the same tables, compiled form and facts, nothing else. The generated module is code in
the package, reviewed and shipped like the rest of it (issue 11): nothing is pickled,
nothing is read from outside the package, and ``tests/test_prebuilt.py`` proves that it
equals a fresh compile, field by field, and that it is current.

It also records a fingerprint of what it was made from (every shipped ``*.toml`` file and
the source of every module that shapes the compiled form: see
:func:`sirecommend._loader.shipped_fingerprint`). The
loader uses the generated form only while that fingerprint still matches the files in the
package, so an edited knowledge file or compiler is never answered with an old compile:
it is compiled afresh, as without this module, until ``python -m sirecommend._prebuild``
is run again.

Run it after any change to ``knowledge/`` or to the modules that function names::

    python -m sirecommend._prebuild
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

__all__ = ["generate", "main"]

_PACKAGE = Path(__file__).resolve().parent


class _Writer:
    """Python source that rebuilds a value: literals inline, shared objects named once."""

    def __init__(self) -> None:
        self.imports: dict[type, str] = {}
        self.lines: list[str] = []
        self.names: dict[int, str] = {}
        self.counts: dict[int, int] = {}
        self.keep: list[object] = []  # every counted object stays alive, so ids stay unique

    # -- which objects are shared -------------------------------------------------------

    def count(self, value: object) -> None:
        """Count how often each composite object is reached (iteratively, any depth)."""
        stack = [value]
        while stack:
            v = stack.pop()
            if not _shareable(v):
                stack.extend(_children(v))
                continue
            seen = self.counts.get(id(v), 0)
            self.counts[id(v)] = seen + 1
            if not seen:
                self.keep.append(v)
                stack.extend(_children(v))

    # -- source -------------------------------------------------------------------------

    def cls(self, kind: type) -> str:
        if kind not in self.imports:
            module, name = self.origin(kind)
            self.imports[kind] = f"_{module.rsplit('.', 1)[-1].lstrip('_')}_{name}"
        return self.imports[kind]

    def origin(self, kind: type) -> tuple[str, str]:
        """Where ``kind`` is imported from (``MappingProxyType`` lives in ``types``)."""
        if kind is MappingProxyType:
            return "types", "MappingProxyType"
        return kind.__module__, kind.__qualname__

    def expr(self, v: object) -> str:
        """An expression for ``v``; a shared object is defined once, as a named line."""
        name = self.names.get(id(v))
        if name is not None:
            return name
        text = self._expr(v)
        if _own_line(v) or (_shareable(v) and self.counts.get(id(v), 0) > 1):
            name = f"_v{len(self.names)}"
            self.names[id(v)] = name
            self.lines.append(f"    {name} = {text}")
            return name
        return text

    def _expr(self, v: object) -> str:
        if isinstance(v, enum.Enum):
            return f"{self.cls(type(v))}.{v.name}"
        if v is None or type(v) in (bool, str, int):
            return repr(v)
        if type(v) is float:
            return repr(v) if v == v and abs(v) != float("inf") else f"float({str(v)!r})"
        if isinstance(v, BaseModel):
            fields = ", ".join(f"{k}={self.expr(getattr(v, k))}" for k in type(v).model_fields)
            names = sorted(v.model_fields_set)
            fields_set = "{" + ", ".join(map(repr, names)) + "}" if names else "set()"
            return f"{self.cls(type(v))}.model_construct({fields_set}, {fields})"
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            for f in dataclasses.fields(v):
                if not f.init:
                    raise TypeError(f"{type(v).__name__}.{f.name} is not set by __init__")
            fields = ", ".join(
                f"{f.name}={self.expr(getattr(v, f.name))}" for f in dataclasses.fields(v)
            )
            return f"{self.cls(type(v))}({fields})"
        if isinstance(v, tuple) and hasattr(type(v), "_fields"):  # a NamedTuple
            return f"{self.cls(type(v))}({', '.join(self.expr(x) for x in v)})"
        if type(v) is tuple:
            items = [self.expr(x) for x in v]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if type(v) is list:
            return f"[{', '.join(self.expr(x) for x in v)}]"
        if type(v) is frozenset:
            if not v:
                return "frozenset()"
            return f"frozenset({{{', '.join(self.expr(x) for x in _ordered(v))}}})"
        if type(v) is dict:
            return self._dict(v)
        if type(v) is MappingProxyType:
            return f"{self.cls(MappingProxyType)}({self._dict(dict(v))})"
        raise TypeError(f"cannot write a {type(v).__name__} as source")

    def _dict(self, d: dict[Any, Any]) -> str:
        return "{" + ", ".join(f"{self.expr(k)}: {self.expr(x)}" for k, x in d.items()) + "}"

    def header(self) -> list[str]:
        out = []
        for kind, alias in sorted(self.imports.items(), key=lambda kv: kv[1]):
            module, name = self.origin(kind)
            out.append(f"from {module} import {name} as {alias}")
        return out


def _shareable(v: object) -> bool:
    """Whether ``v`` is a composite object that a compile may reach from several places."""
    return isinstance(v, (BaseModel, MappingProxyType, dict)) or (
        dataclasses.is_dataclass(v) and not isinstance(v, type)
    )


def _own_line(v: object) -> bool:
    """Whether ``v`` gets a line of its own (a model or dataclass): short lines, short diffs."""
    return isinstance(v, BaseModel) or (dataclasses.is_dataclass(v) and not isinstance(v, type))


def _ordered(items: frozenset[Any]) -> list[Any]:
    """The members of a frozenset in a fixed order, so that the source is reproducible."""
    return sorted(items, key=repr)


def _children(v: object) -> Iterator[object]:
    if isinstance(v, BaseModel):
        yield from (getattr(v, k) for k in type(v).model_fields)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        yield from (getattr(v, f.name) for f in dataclasses.fields(v))
    elif isinstance(v, (tuple, list, frozenset)):
        yield from v
    elif isinstance(v, (dict, MappingProxyType)):
        for k, x in v.items():
            yield k
            yield x


def generate() -> str:
    """The source of :mod:`sirecommend._prebuilt` for the shipped knowledge, as it is now."""
    from sirecommend._kb import TABLES
    from sirecommend._loader import (
        _fresh_shipped_knowledge,
        shipped_fingerprint,
        shipped_knowledge_dir,
    )

    print_ = shipped_fingerprint()
    kb = _fresh_shipped_knowledge()
    root = f"{shipped_knowledge_dir()}/"
    origins = {}
    for key, label in kb.origins.items():
        if not label.startswith(root):  # pragma: no cover - every shipped entry has a file
            raise ValueError(f"{key}: {label} is not a shipped knowledge file")
        origins[key] = label.removeprefix(root)
    parts: dict[str, object] = {attr: getattr(kb, attr) for attr in TABLES.values()}
    parts["origins"] = origins
    parts["compiled"] = kb.compiled
    parts["facts"] = kb.facts
    w = _Writer()
    w.count(parts)
    body = [f"    {attr}={w.expr(value)}," for attr, value in parts.items()]
    lines = [
        '"""The shipped knowledge, compiled: generated by ``python -m sirecommend._prebuild``.',
        "",
        "Do not edit: run ``python -m sirecommend._prebuild`` after changing the knowledge or",
        "the compiler. ``tests/test_prebuilt.py`` proves it equals a fresh compile.",
        '"""',
        "",
        "# fmt: off",
        "# ruff: noqa",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        *w.header(),
        "",
        f"FINGERPRINT = {print_!r}",
        f"DIGEST = {kb.digest!r}",
        "",
        "",
        "def parts() -> dict[str, Any]:",
        '    """The tables, origins (relative to the knowledge directory), compiled form and',
        '    facts of the shipped knowledge, built anew on every call."""',
        *w.lines,
        "    return dict(",
        *body,
        "    )",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write :mod:`sirecommend._prebuilt` next to this module (or check it with ``--check``)."""
    args = sys.argv[1:] if argv is None else argv
    target = _PACKAGE / "_prebuilt.py"
    text = generate()
    if "--check" in args:
        current = target.read_text("utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python -m sirecommend._prebuild", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, "utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a script
    sys.exit(main())
