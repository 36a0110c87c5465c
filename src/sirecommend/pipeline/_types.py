"""Values passed between pipeline stages (immutable).

They are named tuples rather than frozen dataclasses: a recommendation makes one
of each per stretch it considers, and a tuple is several times cheaper to build.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from sirecommend._models import EquipmentOption, Phase
from sirecommend._routine import Reason

__all__ = ["Candidate", "Dosed", "Pick", "Verdict", "VerdictKey"]


class Candidate(NamedTuple):
    """A stretch the context offers (a primary), with what the graph walk found."""

    stretch_id: str
    phase: Phase
    link_cites: tuple[str, ...]
    alternatives: tuple[str, ...]
    focus_hits: tuple[str, ...]
    rank: int


#: What a verdict depends on: the stretch, whether its position is avoided, the index of
#: the equipment option used (-1: none usable; 0 also when no equipment is listed), and
#: the pregnancy trimester (0: not pregnant).
VerdictKey = tuple[str, bool, int, int]


class Verdict(NamedTuple):
    """Whether one stretch can be done by this person, and with which equipment option.

    ``key`` says what the verdict depends on; equal keys give equal verdicts, so
    verdicts are built once per key and later stages can use the key (a few small
    values) wherever they would otherwise hash the verdict itself.
    """

    stretch_id: str
    option: EquipmentOption | None
    blocked: tuple[Reason, ...]
    key: VerdictKey

    @property
    def usable(self) -> bool:
        return not self.blocked


class Pick(NamedTuple):
    """The stretch chosen for a candidate: itself, or an alternative standing in.

    ``verdict`` is the (usable) verdict on the stretch picked; ``replaced`` the
    verdict on the candidate it stands in for, when it does.
    """

    candidate: Candidate
    verdict: Verdict
    replaced: Verdict | None = None

    @property
    def stretch_id(self) -> str:
        return self.verdict.stretch_id

    @property
    def option(self) -> EquipmentOption | None:
        return self.verdict.option

    @property
    def replaces(self) -> str | None:
        return None if self.replaced is None else self.replaced.stretch_id

    @property
    def replaced_because(self) -> tuple[Reason, ...]:
        return () if self.replaced is None else self.replaced.blocked


class Dosed(NamedTuple):
    """A pick with its dose and estimated duration."""

    pick: Pick
    hold_seconds: int
    sets: int
    range_of_motion: Literal["full", "reduced"]
    seconds: int

    @property
    def stretch_id(self) -> str:
        return self.pick.stretch_id
