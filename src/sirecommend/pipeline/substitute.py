"""Substitute: a candidate that cannot be done gives way to its first usable alternative."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Exclusion, Reason, ReasonCode
from sirecommend.pipeline._types import Candidate, Pick, Verdict

__all__ = ["substitute"]


def _exclude(kb: KnowledgeBase, sid: str, reasons: Iterable[Reason]) -> Exclusion:
    return Exclusion(stretch_id=sid, name=kb.stretches[sid].name, reasons=tuple(reasons))


def substitute(
    kb: KnowledgeBase, candidates: Iterable[Candidate], verdicts: Mapping[str, Verdict]
) -> tuple[tuple[Pick, ...], tuple[Exclusion, ...]]:
    """Pick one stretch per candidate, or leave it out with every reason why.

    A usable candidate is picked itself, with its first usable equipment option;
    its alternatives are then not needed. Otherwise its first usable alternative
    (in the knowledge's preference order) stands in, and the candidate is
    excluded as replaced. With no usable alternative, the candidate is excluded
    with its own reasons. Every alternative not picked is excluded with why.
    """
    picks: list[Pick] = []
    excluded: list[Exclusion] = []
    for c in candidates:
        own = verdicts[c.stretch_id]
        primary_name = kb.stretches[c.stretch_id].name
        chosen: str | None = None
        if own.usable:
            picks.append(Pick(candidate=c, stretch_id=c.stretch_id, option=own.option))
        else:
            chosen = next((a for a in c.alternatives if verdicts[a].usable), None)
            if chosen is None:
                extra = [
                    Reason(
                        code=ReasonCode.NO_ALTERNATIVE,
                        message="None of its alternatives can be done either.",
                    )
                ]
                excluded.append(
                    _exclude(kb, c.stretch_id, [*own.blocked, *(extra if c.alternatives else [])])
                )
            else:
                picks.append(
                    Pick(
                        candidate=c,
                        stretch_id=chosen,
                        option=verdicts[chosen].option,
                        replaces=c.stretch_id,
                        replaced_because=own.blocked,
                    )
                )
                excluded.append(
                    _exclude(
                        kb,
                        c.stretch_id,
                        [
                            *own.blocked,
                            Reason(
                                code=ReasonCode.REPLACED,
                                message=f"Replaced by {kb.stretches[chosen].name}.",
                            ),
                        ],
                    )
                )
        for alt in c.alternatives:
            if alt == chosen:
                continue
            if verdicts[alt].usable:
                standing = primary_name if chosen is None else kb.stretches[chosen].name
                excluded.append(
                    _exclude(
                        kb,
                        alt,
                        [
                            Reason(
                                code=ReasonCode.ALTERNATIVE_NOT_NEEDED,
                                message=f"Not needed: {standing} is in the routine.",
                            )
                        ],
                    )
                )
            else:
                excluded.append(_exclude(kb, alt, verdicts[alt].blocked))
    return tuple(picks), tuple(excluded)
