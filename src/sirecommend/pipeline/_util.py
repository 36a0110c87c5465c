"""Small helpers shared by the stages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["citation_key", "unique_sources"]

_CITATION = re.compile(r"^(?P<source>[^#]+)(?:#p(?P<para>[0-9]+))?$")


@lru_cache(maxsize=4096)
def citation_key(citation: str) -> tuple[str, int]:
    """Sort key for citations: by source, then paragraph number as a number.

    >>> sorted(["a#p10", "a#p9", "b"], key=citation_key)
    ['a#p9', 'a#p10', 'b']
    """
    m = _CITATION.match(citation)
    if m is None or m.group("para") is None:
        return citation, 0
    return m.group("source"), int(m.group("para"))


def unique_sources(citations: Iterable[str]) -> tuple[str, ...]:
    """The distinct citations, in source then paragraph order."""
    return tuple(sorted(set(citations), key=citation_key))
