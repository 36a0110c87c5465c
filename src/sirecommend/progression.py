"""The progression engine: logged sessions in, the next session's dose per stretch out.

A pure function of the knowledge, a context and the history. The rules are data, the
knowledge's ``progression`` model (``knowledge/progression.toml``), cited to the
pain-monitoring model and its traffic-light use in physiotherapy (both from tendon
rehabilitation, not from SI joint studies) and to the article (p10, p16, p26).

**The dose ladder** of a stretch never leaves its source dose: first the lowest hold
and sets at reduced range (p10), then at full range ``hold_rungs`` holds from the low to
the high hold (the middle ones rounded down to 5 s), then one more set at a time up to
the high sets. For 30-60 s x 2-3 sets: reduced 30 s x 2, 30 s x 2, 45 s x 2, 60 s x 2,
60 s x 3. A stretch without feedback starts where :func:`sirecommend.recommend` puts it
(the lowest rung when aggravated, else the default dose).

**Bands.** A feedback's band is the worst of its pain during, pain after and next
morning bands. Sessions are read oldest first (sorted by date, so the order given does
not matter). Per stretch: ``greens_to_step_up`` greens in a row move it one rung up;
amber keeps it; red moves it one rung down, or rests it for the next session logged
when it is on the lowest rung already; ``reds_to_pause`` reds in all leave it out with
advice to see a physical therapist. Pain at or above ``hold_pain`` anywhere in a
session, or a worse next morning on every stretch of it, makes every green of that
session count as amber: nothing goes up, and a stretch stepped up after an earlier
session stays where it was while the latest session holds.

>>> import datetime as dt
>>> from sirecommend import load_knowledge
>>> from sirecommend._feedback import Feedback, Session
>>> kb = load_knowledge()
>>> def day(n, pain):
...     return Session(date=dt.date(2026, 1, n), context="after_sitting", feedback=[
...         Feedback(stretch_id="hamstring_supine", sets_done=2, pain_during=pain)])
>>> p = progress(kb, "after_sitting", [day(2, 1), day(3, 2)])
>>> step = p.step("hamstring_supine")
>>> step.progression, step.rung.hold_seconds, step.rung.sets
('up', 60, 2)
>>> progress(kb, "after_sitting", [day(2, 8), day(3, 7)]).paused[0].see_therapist
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer

from sirecommend._compile import default_dose
from sirecommend._feedback import Feedback, Session, check_session
from sirecommend._kb import KnowledgeBase
from sirecommend._models import Dosage, ProgressionModel
from sirecommend.errors import InvalidArgumentError, KnowledgeError, KnowledgeProblem

__all__ = [
    "Movement",
    "PausedStretch",
    "Progression",
    "Rung",
    "StretchProgress",
    "band_of",
    "ladder",
    "progress",
    "sorted_sessions",
]

Movement = Literal["start", "up", "same", "down"]
Band = Literal["green", "amber", "red"]
_RANK: dict[Band, int] = {"green": 0, "amber": 1, "red": 2}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Rung(_Frozen):
    """One dose on a stretch's ladder."""

    hold_seconds: int
    sets: int
    range_of_motion: Literal["full", "reduced"]

    def __str__(self) -> str:
        reduced = ", reduced range" if self.range_of_motion == "reduced" else ""
        return f"{self.hold_seconds} s x {self.sets}{reduced}"


class StretchProgress(_Frozen):
    """The next dose of one stretch and how feedback moved it there.

    ``index`` is the rung (0 = lowest) of ``rungs``; ``reason`` says why, citing
    ``rule`` (the progression model's id) and ``sources``.
    """

    stretch_id: str
    rung: Rung
    index: int
    rungs: int
    progression: Movement
    reason: str
    rule: str
    sources: tuple[str, ...]


class PausedStretch(_Frozen):
    """A stretch left out of the next session by the progression rules, and why.

    ``see_therapist`` is true when it is out until a physical therapist has looked at it
    (``reds_to_pause`` reds); false when it only rests for the next session.
    """

    stretch_id: str
    reason: str
    see_therapist: bool
    rule: str
    sources: tuple[str, ...]


class Progression(_Frozen):
    """What the history means for the next session of ``context``.

    ``steps`` covers every stretch the context offers (in routine order) that is not
    ``paused``. ``hold`` is true when the latest session says nothing may go up
    (``hold_reason`` says why). ``red_flags`` are every flag reported in any session:
    a caller must refer, as for a profile's red flags.
    """

    context: str
    rule: str
    sessions: int
    steps: tuple[StretchProgress, ...]
    paused: tuple[PausedStretch, ...]
    hold: bool
    hold_reason: str | None = None
    red_flags: Annotated[
        frozenset[str], PlainSerializer(lambda ids: sorted(ids), return_type=list[str])
    ] = frozenset()

    def step(self, stretch_id: str) -> StretchProgress:
        """The progress of one stretch; :class:`KeyError`-free: unknown ids raise
        :class:`~sirecommend.errors.UnknownIdError`."""
        for s in self.steps:
            if s.stretch_id == stretch_id:
                return s
        from sirecommend.errors import UnknownIdError

        raise UnknownIdError("stretch", stretch_id, [s.stretch_id for s in self.steps])


def ladder(dosage: Dosage, model: ProgressionModel) -> tuple[Rung, ...]:
    """The dose ladder of a stretch, lowest first, within its source dose.

    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> [str(r) for r in ladder(kb.stretches["hamstring_supine"].dosage,
    ...                          kb.progression["traffic_light"])]
    ['30 s x 2, reduced range', '30 s x 2', '45 s x 2', '60 s x 2', '60 s x 3']
    """
    low, high = dosage.hold_seconds
    sets_low, sets_high = dosage.sets
    holds: list[int] = []
    steps = model.hold_rungs - 1
    for i in range(model.hold_rungs):
        hold = low + (high - low) * i // steps
        if 0 < i < steps:
            hold = max(low, hold - hold % 5)
        if hold not in holds:
            holds.append(hold)
    rungs = [Rung(hold_seconds=low, sets=sets_low, range_of_motion="reduced")]
    rungs += [Rung(hold_seconds=h, sets=sets_low, range_of_motion="full") for h in holds]
    rungs += [
        Rung(hold_seconds=high, sets=s, range_of_motion="full")
        for s in range(sets_low + 1, sets_high + 1)
    ]
    return tuple(rungs)


def _start_index(rungs: Sequence[Rung], dosage: Dosage, aggravated: bool) -> int:
    """Where :func:`sirecommend.recommend` doses a stretch without history."""
    if aggravated:
        return 0
    hold, sets = default_dose(dosage.hold_seconds, dosage.sets)
    return max(
        i
        for i, r in enumerate(rungs)
        if r.range_of_motion == "full" and r.hold_seconds <= hold and r.sets <= sets
    )


def band_of(feedback: Feedback, model: ProgressionModel) -> Band:
    """The traffic-light band of one feedback: the worst of its ratings.

    >>> from sirecommend import load_knowledge
    >>> m = load_knowledge().progression["traffic_light"]
    >>> band_of(Feedback(stretch_id="x", sets_done=2, pain_during=2), m)
    'green'
    >>> band_of(Feedback(stretch_id="x", sets_done=2, pain_during=2, next_morning="worse"), m)
    'red'
    """
    bands: list[Band] = []
    for phase, pain in feedback.ratings():
        limits = model.pain_during if phase == "during" else model.pain_after
        bands.append(
            "green" if pain <= limits.green_max else "amber" if pain <= limits.amber_max else "red"
        )
    if feedback.next_morning is not None:
        bands.append(getattr(model.next_morning, feedback.next_morning))
    return max(bands, key=_RANK.__getitem__)


@dataclasses.dataclass
class _State:
    index: int
    greens: int = 0
    reds: int = 0
    resting: bool = False
    paused: bool = False
    movement: Movement = "start"
    reason: str = ""


def _hold_reason(session: Session, model: ProgressionModel) -> str | None:
    worst = max((p for f in session.feedback for _, p in f.ratings()), default=0)
    if worst >= model.hold_pain:
        return (
            f"pain of {worst}/10 on {session.date.isoformat()} (the limit is "
            f"{model.hold_pain - 1}/10): nothing goes up after that session"
        )
    if session.feedback and all(f.next_morning == "worse" for f in session.feedback):
        return (
            f"the morning after {session.date.isoformat()} was worse after every stretch: "
            "nothing goes up after that session"
        )
    return None


def _apply(state: _State, band: Band, model: ProgressionModel, rungs: Sequence[Rung]) -> None:
    if state.paused:
        return
    state.resting = False
    if band == "green":
        state.greens += 1
        if state.greens < model.greens_to_step_up:
            state.movement = "same"
            state.reason = "green session (little pain, settled by the next morning): same dose"
        elif state.index + 1 < len(rungs):
            state.index += 1
            state.greens = 0
            state.movement = "up"
            state.reason = (
                f"{model.greens_to_step_up} green sessions in a row: one rung up, "
                f"to {rungs[state.index]}"
            )
        else:
            state.greens = 0
            state.movement = "same"
            state.reason = "green again, at the top of the source's dose: same dose"
        return
    state.greens = 0
    if band == "amber":
        state.movement = "same"
        state.reason = "amber session (some pain that settled): same dose"
        return
    state.reds += 1
    state.movement = "down"
    if state.reds >= model.reds_to_pause:
        state.paused = True
        state.reason = (
            f"{state.reds} red sessions (pain above {model.pain_during.amber_max}/10 or worse "
            "the next morning): leave it out and ask a physical therapist about it"
        )
    elif state.index > 0:
        state.index -= 1
        state.reason = (
            f"red session (too much pain, or not settled by the next morning): one rung "
            f"down, to {rungs[state.index]}"
        )
    else:
        state.resting = True
        state.reason = (
            "red session on the lowest dose already: rest it for the next session, "
            "then start again gently"
        )


def sorted_sessions(history: Iterable[Session]) -> list[Session]:
    """The sessions of ``history`` oldest first (ties: by their JSON), each checked to be
    a :class:`Session`; :class:`InvalidArgumentError` otherwise.

    >>> sorted_sessions([])
    []
    >>> sorted_sessions("not sessions")
    Traceback (most recent call last):
    ...
    sirecommend.errors.InvalidArgumentError: history must be an iterable of Session, not str
    """
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise InvalidArgumentError(
            f"history must be an iterable of Session, not {type(history).__name__}"
        )
    out: list[Session] = []
    for s in history:
        if not isinstance(s, Session):
            raise InvalidArgumentError(f"history must hold Session objects, not {type(s).__name__}")
        out.append(s)
    return sorted(out, key=lambda s: (s.date, s.model_dump_json()))


def model_of(kb: KnowledgeBase) -> ProgressionModel:
    """The knowledge's progression model; a :class:`KnowledgeError` when it has none."""
    for model in kb.progression.values():
        return model
    raise KnowledgeError(
        [KnowledgeProblem("<knowledge>", "progression", "", "this knowledge has no progression")]
    )


def progress(
    kb: KnowledgeBase,
    context: str,
    history: Iterable[Session] = (),
    *,
    aggravated: bool = False,
) -> Progression:
    """The next session's dose for every stretch of ``context``, from the history.

    Parameters
    ----------
    kb : KnowledgeBase
        The knowledge (its ``progression`` model and stretches).
    context : str
        The context of the next session.
    history : iterable of Session
        Logged sessions, in any order (they are sorted by date).
    aggravated : bool
        Whether the person is aggravated today: stretches with no feedback yet start on
        the lowest rung, as :func:`sirecommend.recommend` doses them.

    Raises
    ------
    UnknownIdError
        The context, or an id in a session, is not in the knowledge.
    InvalidArgumentError
        ``history`` holds something that is not a :class:`Session`.
    KnowledgeError
        The knowledge has no progression model.
    """
    if not isinstance(kb, KnowledgeBase):
        raise InvalidArgumentError(f"kb must be a KnowledgeBase, not {type(kb).__name__}")
    model = model_of(kb)
    if context not in kb.contexts:
        from sirecommend.errors import UnknownIdError

        raise UnknownIdError("context", context, kb.contexts)
    sessions = sorted_sessions(history)
    for s in sessions:
        check_session(s, kb)
    ladders = {sid: ladder(st.dosage, model) for sid, st in kb.stretches.items()}
    states: dict[str, _State] = {}
    hold: str | None = None
    for session in sessions:
        hold = _hold_reason(session, model)
        done = {f.stretch_id for f in session.feedback}
        for sid, state in states.items():
            if state.resting and sid not in done:  # this session was its rest
                state.resting = False
                state.reason = "rested for one session after a red one: back on the lowest dose"
        for f in session.feedback:
            sid = f.stretch_id
            rungs = ladders[sid]
            state = states.setdefault(
                sid, _State(_start_index(rungs, kb.stretches[sid].dosage, aggravated))
            )
            band = band_of(f, model)
            if hold is not None and band == "green":
                band = "amber"
            _apply(state, band, model, rungs)
            if hold is not None and state.movement == "same":
                state.reason = hold
    steps: list[StretchProgress] = []
    paused: list[PausedStretch] = []
    for sid in kb.order(context):
        rungs = ladders[sid]
        dosage = kb.stretches[sid].dosage
        state = states.get(sid) or _State(_start_index(rungs, dosage, aggravated))
        if state.paused or state.resting:
            paused.append(
                PausedStretch(
                    stretch_id=sid,
                    reason=state.reason,
                    see_therapist=state.paused,
                    rule=model.id,
                    sources=(*model.cites, *model.pause_cites),
                )
            )
            continue
        start = state.movement == "start"
        index, movement, reason = state.index, state.movement, state.reason
        if hold is not None and movement == "up":  # stepped up earlier: not after a hold
            index, movement, reason = index - 1, "same", hold
        steps.append(
            StretchProgress(
                stretch_id=sid,
                rung=rungs[index],
                index=index,
                rungs=len(rungs),
                progression=movement,
                reason=reason or "no feedback yet: the usual starting dose",
                rule=model.id,
                sources=model.ladder_cites if start else (*model.cites, *model.ladder_cites),
            )
        )
    return Progression(
        context=context,
        rule=model.id,
        sessions=len(sessions),
        steps=tuple(steps),
        paused=tuple(paused),
        hold=hold is not None,
        hold_reason=hold,
        red_flags=frozenset(f for s in sessions for f in s.red_flags),
    )
