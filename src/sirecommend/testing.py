"""Hypothesis strategies and synthetic knowledge, for testing sirecommend and its packs.

A clinic that writes its own knowledge pack can run the library's safety properties on
it: draw profiles for the pack with :func:`profiles`, or draw whole, valid knowledge
bases with :func:`knowledge_bases`. :func:`synthetic_knowledge` builds a deterministic
knowledge base of any size from the shipped vocabulary, for load and speed tests.

Everything here is built through the real loader
(:func:`~sirecommend._loader.knowledge_from_packs`), so generated knowledge passes every
check that a pack on disk does.

This module needs `hypothesis <https://hypothesis.works>`_, a test-only dependency
(``pip install 'sirecommend[test]'``); ``import sirecommend`` never imports it.

Examples
--------
>>> from hypothesis import given, settings
>>> from sirecommend import recommend
>>> from sirecommend.testing import profiles
>>> @settings(max_examples=20, deadline=None)
... @given(profiles())
... def test_red_flags_refer(profile):
...     routine = recommend(profile)
...     assert not (profile.red_flags and routine.steps)
>>> test_red_flags_refer()
"""

from __future__ import annotations

import functools
import gc
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "sirecommend.testing needs hypothesis, a test-only dependency: "
        "pip install 'sirecommend[test]' (or pip install hypothesis)"
    ) from exc

from sirecommend._compile import Member, OrderingCycleError, first_paragraph, precedence_order
from sirecommend._kb import KnowledgeBase
from sirecommend._loader import _shipped_files, knowledge_from_packs, load_knowledge
from sirecommend._models import PHASES, URGENCIES, PackFile, Phase, Stretch
from sirecommend._routine import Profile
from sirecommend.errors import InvalidArgumentError

__all__ = ["knowledge_bases", "profiles", "synthetic_knowledge"]

_T = TypeVar("_T")
_P = ParamSpec("_P")


def _ids(table: Mapping[str, object]) -> list[str]:
    return sorted(table)


def _id_sets(ids: Sequence[str], max_size: int = 4) -> st.SearchStrategy[frozenset[str]]:
    """Sets of ``ids``: any subset, drawn as one bit mask (cheap, and it shrinks to the
    empty set); over 16 ids, sets of at most ``max_size`` drawn one id at a time."""
    if not ids:
        return st.just(frozenset())
    if len(ids) > 16:
        return st.frozensets(st.sampled_from(ids), max_size=max_size)
    chosen = tuple(ids)
    return st.integers(0, 2 ** len(chosen) - 1).map(
        lambda mask: frozenset(x for i, x in enumerate(chosen) if mask >> i & 1)
    )


def profiles(
    knowledge: KnowledgeBase | None = None, *, red_flags: bool | None = None
) -> st.SearchStrategy[Profile]:
    """Valid profiles for ``knowledge`` (default: the shipped knowledge).

    Every field varies: context, aggravation, equipment, avoided positions (groups
    such as ``floor`` included), red flags, pregnancy trimester, time budget and
    focus muscles. Every id is one the knowledge defines, so :func:`sirecommend.recommend`
    accepts every profile drawn.

    Parameters
    ----------
    knowledge : KnowledgeBase, optional
        Where the ids come from. It must define at least one context.
    red_flags : bool, optional
        ``True``: always at least one red flag; ``False``: never any; ``None``
        (default): about half the profiles have some.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> @settings(max_examples=20, deadline=None)
    ... @given(profiles(kb, red_flags=False))
    ... def test(profile):
    ...     assert profile.context in kb.contexts and not profile.red_flags
    ...     assert profile.avoid_positions <= {*kb.positions, *kb.position_groups}
    >>> test()
    """
    kb = load_knowledge() if knowledge is None else knowledge
    if not isinstance(kb, KnowledgeBase):
        raise InvalidArgumentError(
            f"knowledge must be a KnowledgeBase or None, not {type(kb).__name__}"
        )
    if not kb.contexts:
        raise InvalidArgumentError("the knowledge defines no context, so no profile is valid")
    flag_ids = _ids(kb.red_flags)
    some_flags = st.frozensets(st.sampled_from(flag_ids), min_size=1, max_size=3)
    if red_flags is True:
        if not flag_ids:
            raise InvalidArgumentError("red_flags=True, but the knowledge defines no red flag")
        flags: st.SearchStrategy[frozenset[str]] = some_flags
    elif red_flags is False or not flag_ids:
        flags = st.just(frozenset())
    else:
        flags = st.just(frozenset()) | some_flags
    equipment, avoidable = _ids(kb.equipment), _ids(kb.positions) + _ids(kb.position_groups)
    # Many draws keep the person unrestricted (all equipment, nothing avoided), so that
    # routines are long enough to break the ordering and timing rules, if they can be.
    return st.builds(
        Profile,
        context=st.sampled_from(_ids(kb.contexts)),
        aggravated=st.booleans(),
        equipment=st.just(frozenset(equipment)) | _id_sets(equipment),
        avoid_positions=st.just(frozenset()) | _id_sets(avoidable),
        red_flags=flags,
        pregnancy_trimester=st.sampled_from((None, None, 1, 2, 3)),
        minutes=st.none()
        | st.integers(1, 40).map(float)
        | st.floats(0.25, 60.0, allow_nan=False, allow_infinity=False),
        focus=_id_sets(_ids(kb.muscles)),
    )


# --- generated knowledge -------------------------------------------------------------
#
# Generation draws small integers only (an index, a bit mask), through strategies built
# once: building hypothesis strategies inside every draw made each knowledge base
# ten times slower. Every draw shrinks towards 0, that is towards fewer, simpler entries.


@functools.cache
def _base_kinds() -> KnowledgeBase:
    """The shipped base kinds alone (every generated movement and position names one)."""
    return knowledge_from_packs(name="<base kinds>")


_ARTICLE = "gen-article"
_GUIDELINE = "gen-guideline"
_PARAGRAPHS = 12
_CITATIONS = (_GUIDELINE, *(f"{_ARTICLE}#p{n}" for n in range(1, _PARAGRAPHS + 1)))
#: One citation, or two different ones: what an entry's ``cites`` may be.
_CITE_CHOICES = tuple([c] for c in _CITATIONS) + tuple(
    [a, b] for a in _CITATIONS for b in _CITATIONS if a < b
)
_INTEGERS: dict[tuple[int, int], st.SearchStrategy[int]] = {}


def _int(draw: st.DrawFn, low: int, high: int) -> int:
    strategy = _INTEGERS.get((low, high))
    if strategy is None:
        strategy = _INTEGERS[low, high] = st.integers(low, high)
    return draw(strategy)


def _pick(draw: st.DrawFn, items: Sequence[_T]) -> _T:
    return items[_int(draw, 0, len(items) - 1)]


def _cites(draw: st.DrawFn) -> list[str]:
    return list(_pick(draw, _CITE_CHOICES))


def _subset(draw: st.DrawFn, ids: Sequence[str], min_size: int = 0, max_size: int = 3) -> list[str]:
    """A subset of ``ids`` (never an empty sequence), in their order, from one bit mask."""
    mask = _int(draw, 0, 2 ** len(ids) - 1)
    chosen = [x for i, x in enumerate(ids) if mask >> i & 1][:max_size]
    return chosen if len(chosen) >= min_size else list(ids[:min_size])


def _sequence(draw: st.DrawFn, items: Sequence[_T], max_size: int) -> list[_T]:
    """Up to ``max_size`` distinct ``items`` in a drawn order."""
    left, out = list(items), []
    for _ in range(_int(draw, 0, min(max_size, len(left)))):
        out.append(left.pop(_int(draw, 0, len(left) - 1)))
    return out


def _stretch_data(
    draw: st.DrawFn,
    index: int,
    primary: str | None,
    vocab: Mapping[str, list[str]],
) -> dict[str, Any]:
    # Only the stretch's own citations are drawn (they break ties in the order); its
    # parts cite a fixed paragraph, which keeps each draw cheap.
    cites = [f"{_ARTICLE}#p{index % _PARAGRAPHS + 1}"]
    hold = sorted((_int(draw, 1, 120), _int(draw, 1, 120)))
    sets = sorted((_int(draw, 1, 6), _int(draw, 1, 6)))
    kits: list[str | None] = [None, *vocab["equipment"]]
    # Bias towards rotation with side_bend: the combination the shipped rule forbids.
    movements = (
        ["rotation", "side_bend"]
        if _int(draw, 0, 7) == 7
        else _subset(draw, vocab["movement"], min_size=1, max_size=2)
    )
    data: dict[str, Any] = {
        "id": f"stretch_{index}",
        "name": f"Generated stretch {index}",
        "phase": _pick(draw, vocab["phase"]),
        "position": _pick(draw, vocab["position"]),
        "equipment": [
            {
                **({"uses": u} if u is not None else {}),
                "how": f"Do it with {u or 'your hands'}.",
                "cites": cites,
            }
            for u in _sequence(draw, kits, 3)
        ],
        "movements": movements,
        "targets": _subset(draw, vocab["muscle"], min_size=1),
        "dosage": {
            "hold_seconds": hold,
            "sets": sets,
            "per_side": bool(_int(draw, 0, 1)),
            "cites": cites,
        },
        "instructions": [
            {"text": f"Step {n} of stretch {index}.", "cites": cites}
            for n in range(1, _int(draw, 1, 2) + 1)
        ],
        "cautions": [
            {"text": f"Caution {n} for stretch {index}.", "cites": cites}
            for n in range(1, _int(draw, 0, 1) + 1)
        ],
        "cites": _cites(draw),
    }
    if primary is not None:
        data["alternative_of"] = primary
    else:
        data["suits"] = [
            {
                "context": c,
                # One link in four puts the stretch in a phase of its own for this context.
                **({"phase": _pick(draw, vocab["phase"])} if _int(draw, 0, 3) == 3 else {}),
                "cites": cites,
            }
            for c in _subset(draw, vocab["context"], min_size=1)
        ]
    return data


def _acyclic(pack: PackFile) -> PackFile:
    """Drop each ordering that would make a cycle with the phase and position order."""
    positions = {p.id: p for p in pack.position}

    def member(st: Stretch, phase: Phase) -> Member:
        pos = positions[st.position]
        return Member(st.id, phase, pos.sequence, pos.id, first_paragraph(st.cites))

    members: dict[str, list[Member]] = {ctx.id: [] for ctx in pack.context}
    for st in pack.stretch:
        for link in st.suits:
            phase = link.phase or st.phase
            members[link.context].append(member(st, phase))
            members[link.context] += [
                member(a, phase) for a in pack.stretch if a.alternative_of == st.id
            ]
    kept: list[Any] = []
    for ordering in pack.ordering:
        try:
            for ctx in pack.context:
                precedence_order(
                    ctx.id,
                    members[ctx.id],
                    [(o.id, o.before, o.after) for o in (*kept, ordering)],
                )
        except OrderingCycleError:
            continue
        kept.append(ordering)
    return pack.model_copy(update={"ordering": tuple(kept)})


@st.composite
def _knowledge_bases(draw: st.DrawFn, max_stretches: int, max_contexts: int) -> KnowledgeBase:
    vocab: dict[str, list[str]] = {
        "muscle": [f"muscle_{i}" for i in range(_int(draw, 1, 3))],
        "equipment": [f"kit_{i}" for i in range(_int(draw, 0, 3))],
        "position": [f"position_{i}" for i in range(_int(draw, 1, 3))],
        "movement": ["rotation", "side_bend"] + [f"movement_{i}" for i in range(_int(draw, 0, 2))],
        "context": [f"context_{i}" for i in range(_int(draw, 1, max_contexts))],
        # The phases in use: often fewer than three, so stretches share them more.
        "phase": list(_subset(draw, PHASES, min_size=1)),
    }

    def named(kind: str) -> list[dict[str, Any]]:
        return [
            {"id": i, "name": i.replace("_", " ").capitalize(), "cites": [_GUIDELINE]}
            for i in vocab[kind]
        ]

    # Sequences come from two levels, so positions often share one. Kinds are drawn
    # from a few base kinds, so two positions often share one and rules, groups and
    # the audit must match them by kind (is_a), not by id.
    base = _base_kinds()
    position_kinds, movement_kinds = sorted(base.position_kinds)[:4], sorted(base.movement_kinds)
    positions = [
        {**p, "sequence": _int(draw, 0, 1) * 10, "is_a": _pick(draw, position_kinds)}
        for p in named("position")
    ]
    # rotation and side_bend are those kinds; another movement is sometimes one of them.
    movements = [
        {
            **m,
            "is_a": m["id"]
            if m["id"] in ("rotation", "side_bend")
            else _pick(draw, ["rotation", "side_bend", *movement_kinds[:3]]),
        }
        for m in named("movement")
    ]
    groups: list[dict[str, Any]] = [
        {
            "id": f"group_{i}",
            "name": f"Group {i}",
            "members": _subset(
                draw, vocab["position"] + position_kinds[:1], min_size=1, max_size=4
            ),
            "cites": [_GUIDELINE],
        }
        for i in range(_int(draw, 0, 2))
    ]
    stretches: list[dict[str, Any]] = []
    primaries: list[str] = []
    for i in range(_int(draw, 1, max_stretches)):
        # About one stretch in three is an alternative of an earlier primary.
        primary = _pick(draw, primaries) if primaries and _int(draw, 0, 2) == 2 else None
        stretches.append(_stretch_data(draw, i, primary, vocab))
        if primary is None:
            primaries.append(stretches[-1]["id"])
    orderings = []
    for i in range(_int(draw, 0, 3) if len(stretches) > 1 else 0):
        before, after = _pick(draw, stretches)["id"], _pick(draw, stretches)["id"]
        if before != after:
            orderings.append(
                {"id": f"ordering_{i}", "before": before, "after": after, "cites": _cites(draw)}
            )
    tiers = _subset(draw, URGENCIES, min_size=1)
    urgencies = [
        {"id": u, "rank": _int(draw, 1, 10), "action": f"Act: {u}.", "cites": [_GUIDELINE]}
        for u in tiers
    ]
    red_flags = [
        {
            "id": f"flag_{i}",
            "name": f"Flag {i}",
            "urgency": _pick(draw, tiers),
            "message": f"Red flag {i}: get help.",
            "cites": [_GUIDELINE],
        }
        for i in range(_int(draw, 0, 3))
    ]
    data = {
        "source": [
            {
                "id": _ARTICLE,
                "kind": "article",
                "title": "Generated article",
                "publisher": "sirecommend.testing",
                "paragraphs": _PARAGRAPHS,
            },
            {
                "id": _GUIDELINE,
                "kind": "guideline",
                "title": "Generated guideline",
                "publisher": "sirecommend.testing",
            },
        ],
        "muscle": named("muscle"),
        "equipment": named("equipment"),
        "position": positions,
        "position_group": groups,
        "movement": movements,
        "context": named("context"),
        "stretch": stretches,
        "ordering": orderings,
        "rule": _rules(draw, vocab, [g["id"] for g in groups], bool(red_flags)),
        "urgency": urgencies,
        "red_flag": red_flags,
    }
    return knowledge_from_packs(_acyclic(PackFile.model_validate(data)), name="<generated>")


def _rules(
    draw: st.DrawFn, vocab: Mapping[str, list[str]], groups: list[str], referral: bool
) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if _int(draw, 0, 3):  # usually: the shipped rule, never rotate while side-bending
        rules.append(
            {
                "id": "no_rotation_with_side_bend",
                "kind": "forbid_movement_combination",
                "name": "Never combine rotation with a side bend",
                "movements": ["rotation", "side_bend"],
                "caution_movements": _subset(draw, vocab["movement"][1:], max_size=2),
                "caution": "Do not twist while you bend.",
                "cites": _cites(draw),
            }
        )
    if _int(draw, 0, 1):
        rules.append(
            {
                "id": "forbid_other",
                "kind": "forbid_movement_combination",
                "name": "A generated forbidden pair",
                "movements": _subset(draw, vocab["movement"], min_size=2, max_size=2),
                "caution_movements": _subset(draw, vocab["movement"], max_size=1),
                "caution": "Generated caution.",
                "cites": _cites(draw),
            }
        )
    if _int(draw, 0, 1):
        rules.append(
            {
                "id": "aggravated",
                "kind": "when_aggravated",
                "name": "Go gently",
                "range_of_motion": "reduced",
                "dose": "lowest",
                "caution": "Go gently today.",
                "cites": _cites(draw),
            }
        )
    for i in range(_int(draw, 0, 2)):
        rules.append(
            {
                "id": f"pregnancy_{i}",
                "kind": "pregnancy_avoid_position",
                "name": f"Pregnancy rule {i}",
                "from_trimester": _int(draw, 1, 3),
                "positions": _subset(draw, vocab["position"] + groups, min_size=1, max_size=2),
                "reason": f"Left out in pregnancy (rule {i}).",
                "cites": _cites(draw),
            }
        )
    if referral or _int(draw, 0, 1):
        rules.append(
            {
                "id": "refer",
                "kind": "red_flag_referral",
                "name": "Red flags stop the routine",
                "message": "Do not stretch; see a professional.",
                "cites": _cites(draw),
            }
        )
    for i in range(_int(draw, 0, 2)):
        rules.append(
            {
                "id": f"caution_{i}",
                "kind": "general_caution",
                "name": f"Caution {i}",
                "text": f"General caution {i}.",
                "cites": [_GUIDELINE],
            }
        )
    return rules


def knowledge_bases(
    *, max_stretches: int = 8, max_contexts: int = 3
) -> st.SearchStrategy[KnowledgeBase]:
    """Valid, generated knowledge bases, built and checked by the real loader.

    Each draws its own vocabulary (muscles, equipment, positions that often share a
    ``sequence``, position groups, movements that always include ``rotation`` and
    ``side_bend``, contexts), stretches with equipment options, several movements
    (often rotation with side bend), dose ranges across the schema's bounds, context
    links with and without a phase of their own, alternatives, ordering constraints
    (those that would form a cycle are dropped), every kind of rule, urgency tiers
    (ranks may tie) and red flags. Use :func:`profiles` on a drawn knowledge base
    for profiles that fit it.

    Parameters
    ----------
    max_stretches : int
        At most this many stretches (at least one).
    max_contexts : int
        At most this many contexts (at least one).

    Examples
    --------
    >>> from hypothesis import given, settings, strategies as st
    >>> from sirecommend import audit, recommend
    >>> cases = knowledge_bases().flatmap(lambda kb: st.tuples(st.just(kb), profiles(kb)))
    >>> @settings(max_examples=10, deadline=None)
    ... @given(cases)
    ... def test_audit_is_clean(case):
    ...     kb, profile = case
    ...     assert audit(recommend(profile, knowledge=kb), profile, kb) == []
    >>> test_audit_is_clean()
    """
    if max_stretches < 1 or max_contexts < 1:
        raise InvalidArgumentError("max_stretches and max_contexts must be at least 1")
    return _knowledge_bases(max_stretches, max_contexts)


# --- synthetic knowledge -----------------------------------------------------------


def _gc_paused(f: Callable[_P, _T]) -> Callable[_P, _T]:
    """``f``, run with the cyclic garbage collector paused (and then as it was).

    Building 10,000 stretches makes about a million objects and no cyclic garbage
    (:func:`~sirecommend._compile.precedence_order` frees its graphs): collections
    that scan them all, again and again, took a quarter of the time.
    """

    @functools.wraps(f)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return f(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


@functools.lru_cache(maxsize=4)
@_gc_paused
def synthetic_knowledge(n_stretches: int, *, seed: int = 0) -> KnowledgeBase:
    """A deterministic, valid knowledge base of ``n_stretches`` generated stretches.

    The vocabulary (contexts, equipment, positions and the ``floor`` group,
    movements, muscles), the rules, urgencies, red flags and sources are the shipped
    ones, so every profile valid for the shipped knowledge is valid here too. The
    stretches are drawn from ``random.Random(seed)``: about one in five is an
    alternative of an earlier one, about one in ten combines rotation with a side
    bend, and ordering constraints link stretches within a position block. Building
    is linear in ``n_stretches`` (10,000 stretches load in a few seconds); the result
    is cached and, like all knowledge, immutable.

    Raises
    ------
    InvalidArgumentError
        ``n_stretches`` is not a non-negative int.

    Examples
    --------
    >>> from sirecommend import load_knowledge, recommend
    >>> kb = synthetic_knowledge(200)
    >>> len(kb.stretches), list(kb.contexts) == list(load_knowledge().contexts)
    (200, True)
    >>> synthetic_knowledge(200, seed=1).digest != kb.digest
    True
    >>> recommend(context="after_sitting", minutes=5, knowledge=kb).total_seconds <= 300
    True
    """
    if isinstance(n_stretches, bool) or not isinstance(n_stretches, int) or n_stretches < 0:
        raise InvalidArgumentError(f"n_stretches must be a non-negative int, not {n_stretches!r}")
    rng = random.Random(seed)
    # The shipped vocabulary; its base kinds come with knowledge_from_packs() itself.
    empty = {"stretch": (), "ordering": (), "movement_kind": (), "position_kind": ()}
    base = [pack.model_copy(update=empty) for _, pack in _shipped_files()]
    kb = knowledge_from_packs(*base, name="<vocabulary>")
    citations = [
        f"{s.id}#p{n}" for s in kb.sources.values() for n in range(1, (s.paragraphs or 0) + 1)
    ] or sorted(kb.sources)
    contexts, equipment = sorted(kb.contexts), sorted(kb.equipment)
    positions, movements, muscles = sorted(kb.positions), sorted(kb.movements), sorted(kb.muscles)
    width = max(5, len(str(n_stretches)))
    # A context's lead movements (rolling in the warm-up) open its routine: a block of
    # their own, so orderings stay between stretches that lead alike.
    leads = kb.movement_kinds_of([m for c in kb.contexts.values() for m in c.lead_movements])

    def cites() -> list[str]:
        return rng.sample(citations, rng.randint(1, min(2, len(citations))))

    # Each stretch is validated as soon as it is drawn, so that the raw dicts (about
    # 30 MB for 10,000 stretches) never pile up beside the models built from them.
    stretches: list[Stretch] = []
    orderings: list[dict[str, Any]] = []
    primaries: list[str] = []
    last_in_block: dict[tuple[str, str, bool], str] = {}
    for i in range(n_stretches):
        sid = f"synthetic_{i:0{width}d}"
        phase = rng.choice(PHASES)
        position = rng.choice(positions)
        moves = (
            ["rotation", "side_bend"]
            if rng.random() < 0.1 and {"rotation", "side_bend"} <= set(movements)
            else rng.sample(movements, rng.randint(1, min(3, len(movements))))
        )
        low = rng.choice((10, 20, 30))
        uses: list[str | None] = [*rng.sample(equipment, rng.randint(0, min(2, len(equipment))))]
        if uses and rng.random() < 0.5:
            uses.append(None)  # a hands-only fallback
        data: dict[str, Any] = {
            "id": sid,
            "name": f"Synthetic stretch {i}",
            "phase": phase,
            "position": position,
            "equipment": [
                {
                    **({"uses": u} if u else {}),
                    "how": f"With {u or 'your hands'}.",
                    "cites": cites(),
                }
                for u in uses
            ],
            "movements": moves,
            "targets": rng.sample(muscles, rng.randint(1, min(2, len(muscles)))),
            "dosage": {
                "hold_seconds": [low, low + rng.choice((0, 10, 20, 30))],
                "sets": sorted(rng.choice(((1, 1), (1, 3), (2, 3), (2, 4)))),
                "per_side": rng.random() < 0.6,
                "cites": cites(),
            },
            "instructions": [
                {"text": f"Step {n} of synthetic stretch {i}.", "cites": cites()}
                for n in range(1, rng.randint(1, 3) + 1)
            ],
            "cites": cites(),
        }
        if primaries and rng.random() < 0.2:
            data["alternative_of"] = rng.choice(primaries)
        else:
            links = rng.sample(contexts, rng.randint(1, len(contexts)))
            override = rng.random() < 0.2
            data["suits"] = [
                {
                    "context": c,
                    **({"phase": rng.choice(PHASES)} if override else {}),
                    "cites": cites(),
                }
                for c in links
            ]
            primaries.append(sid)
            # Orderings only between primaries that share a phase and a position in every
            # context (no phase of their own), always from a later stretch to an earlier
            # one: never a cycle.
            block = (phase, position, not leads.isdisjoint(kb.movement_kinds_of(moves)))
            if not override and block in last_in_block and rng.random() < 0.3:
                orderings.append(
                    {
                        "id": f"synthetic_order_{len(orderings)}",
                        "before": sid,
                        "after": last_in_block[block],
                        "cites": cites(),
                    }
                )
            if not override:
                last_in_block[block] = sid
        stretches.append(Stretch.model_validate(data))
    pack = PackFile.model_validate({"stretch": stretches, "ordering": orderings})
    del stretches, orderings  # the pack holds them now
    return knowledge_from_packs(
        *base, pack, name=f"<synthetic_knowledge({n_stretches}, seed={seed})>"
    )
