"""Values passed between pipeline stages (immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sirecommend._models import EquipmentOption, Phase
from sirecommend._routine import Reason

__all__ = ["Candidate", "Dosed", "Pick", "Verdict"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stretch the context offers (a primary), with what the graph walk found."""

    stretch_id: str
    phase: Phase
    link_cites: tuple[str, ...]
    alternatives: tuple[str, ...]
    focus_hits: tuple[str, ...]
    rank: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one stretch can be done by this person, and with which equipment option."""

    stretch_id: str
    option: EquipmentOption | None
    blocked: tuple[Reason, ...]

    @property
    def usable(self) -> bool:
        return not self.blocked


@dataclass(frozen=True, slots=True)
class Pick:
    """The stretch chosen for a candidate: itself, or an alternative standing in."""

    candidate: Candidate
    stretch_id: str
    option: EquipmentOption | None
    replaces: str | None = None
    replaced_because: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class Dosed:
    """A pick with its dose and estimated duration."""

    pick: Pick
    hold_seconds: int
    sets: int
    range_of_motion: Literal["full", "reduced"]
    seconds: int

    @property
    def stretch_id(self) -> str:
        return self.pick.stretch_id
