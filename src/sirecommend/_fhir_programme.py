"""FHIR R4 for the programme: a :class:`~sirecommend.Plan` as a CarePlan, a
:class:`~sirecommend.Session` as a Bundle, and back (standard library only).

**Plan -> CarePlan** (``intent: proposal``, ``period`` = the plan's days). One
``activity`` per planned context, each with a ``detail`` (``kind: ServiceRequest``,
``code`` SNOMED CT 229065009 *Exercise therapy*, ``status: scheduled``) whose
``scheduledTiming.repeat`` holds ``frequency`` 1 per ``period`` 1 ``d``, the
``dayOfWeek`` codes, ``boundsPeriod`` and, for after-waking sessions, ``when: [WAKE]``.
The sets of a stretch are a dose, not a number of sessions, so they are never put in
``count``: they are in ``detail.description``. The review date, the notes and the
ACSM minimum are ``note`` entries.

**Session -> Bundle** (``type: collection``):

- one ``Procedure`` (SNOMED CT 229065009; ``status`` ``completed`` when any set was
  done, else ``not-done``; ``performedDateTime`` = the session date; ``basedOn`` the
  CarePlan given, or a display-only reference). Its ``stretch-feedback`` extensions
  keep each stretch's ``stretch`` (valueCoding), ``setsDone`` (valueInteger),
  ``nextMorning`` (valueCode ``better``, ``same``, ``worse``) and ``note``
  (valueString); ``session-context`` (valueCoding) and ``red-flag`` (valueCoding,
  repeated) keep the rest.
- one ``Observation`` per pain rating: ``code`` LOINC 72514-3 (pain severity 0-10,
  reported), ``valueInteger`` 0-10, ``effectiveDateTime`` = the session date,
  ``partOf`` the Procedure, and an ``exertion-phase`` extension (valueCodeableConcept:
  SNOMED CT 309604004 *during exercise* or 255214003 *after exercise*) plus the
  ``stretch`` (valueCoding) it rates.

:func:`session_from_fhir` reads such a Bundle back into an equal Session.

>>> import datetime as dt
>>> from sirecommend import Feedback, Session
>>> s = Session(date=dt.date(2026, 1, 5), context="after_sitting",
...             feedback=[Feedback(stretch_id="hamstring_supine", sets_done=2,
...                                pain_during=3, pain_after=1)])
>>> b = session_to_fhir(s)
>>> [e["resource"]["resourceType"] for e in b["entry"]]
['Procedure', 'Observation', 'Observation']
>>> session_from_fhir(b) == s
True
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from sirecommend._feedback import Feedback, Session
from sirecommend._plan import Plan, plan_digest
from sirecommend.errors import InvalidArgumentError

__all__ = [
    "AFTER_EXERCISE",
    "DURING_EXERCISE",
    "PAIN_SCORE",
    "plan_to_fhir",
    "session_from_fhir",
    "session_to_fhir",
]

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
EXTENSION_BASE = "https://sirecommend.invalid/fhir/StructureDefinition/"
CODE_SYSTEM_BASE = "https://sirecommend.invalid/fhir/CodeSystem/"
EXERCISE_THERAPY = {"system": SNOMED, "code": "229065009", "display": "Exercise therapy"}
#: LOINC 72514-3: pain severity, 0-10 verbal numeric rating, reported.
PAIN_SCORE = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
DURING_EXERCISE = {"system": SNOMED, "code": "309604004", "display": "During exercise"}
AFTER_EXERCISE = {"system": SNOMED, "code": "255214003", "display": "After exercise"}
_PHASES = {"during": DURING_EXERCISE, "after": AFTER_EXERCISE}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NS = uuid.UUID("6f1c1c55-2f0e-4b8e-9a57-5a1c0b1e0d13")

JSON = dict[str, Any]


def _coding(system: str, code: str) -> JSON:
    return {"system": CODE_SYSTEM_BASE + system, "code": code}


def _subject(subject: Mapping[str, Any] | None, what: str) -> JSON:
    return dict(subject) if subject is not None else {"display": f"The person this {what} is for"}


def plan_to_fhir(plan: Plan, *, subject: Mapping[str, Any] | None = None) -> JSON:
    """The plan as a FHIR R4 ``CarePlan`` (see the module docs).

    >>> import datetime as dt
    >>> from sirecommend import plan
    >>> cp = plan_to_fhir(plan({"context": "after_sleep"}, dt.date(2026, 3, 2), days=[1, 3]))
    >>> timing = cp["activity"][0]["detail"]["scheduledTiming"]["repeat"]
    >>> timing["dayOfWeek"], timing["when"], "count" in timing
    (['mon', 'wed'], ['WAKE'], False)
    """
    activities = []
    for routine in plan.routines:
        if routine.status != "ok":
            continue
        repeat: JSON = {
            "boundsPeriod": {"start": plan.start.isoformat(), "end": plan.end.isoformat()},
            "frequency": 1,
            "period": 1,
            "periodUnit": "d",
            "dayOfWeek": [_DAYS[d - 1] for d in plan.days_of_week],
        }
        wake = any(s.after_waking for s in plan.sessions if s.context == routine.context)
        if wake:
            repeat["when"] = ["WAKE"]
        doses = "; ".join(
            f"{st.name}: hold {st.hold_seconds} s, {st.sets} sets"
            + (" each side" if st.per_side else "")
            + (", reduced range" if st.range_of_motion == "reduced" else "")
            for st in routine.steps
        )
        activities.append(
            {
                "detail": {
                    "kind": "ServiceRequest",
                    "code": {
                        "coding": [dict(EXERCISE_THERAPY), _coding("context", routine.context)],
                        "text": f"SI joint stretches: {routine.context.replace('_', ' ')}",
                    },
                    "status": "scheduled",
                    "scheduledTiming": {"repeat": repeat},
                    "description": doses,
                }
            }
        )
    notes = [{"text": n} for n in plan.notes]
    notes.append({"text": f"Review the plan on {plan.review_on.isoformat()}."})
    notes.append({"text": plan.routines[0].notice})
    care_plan: JSON = {
        "resourceType": "CarePlan",
        "id": f"plan-{plan_digest(plan)}",
        "status": "active",
        "intent": "proposal",
        "title": "SI joint stretching plan",
        "subject": _subject(subject, "plan"),
        "period": {"start": plan.start.isoformat(), "end": plan.end.isoformat()},
        "note": notes,
    }
    if activities:
        care_plan["activity"] = activities
    return care_plan


def _ext(name: str, **value: Any) -> JSON:
    ((kind, v),) = value.items()
    return {"url": name, kind: v}


def session_to_fhir(
    session: Session,
    *,
    subject: Mapping[str, Any] | None = None,
    based_on: Mapping[str, Any] | None = None,
) -> JSON:
    """The session as a FHIR R4 ``Bundle``: one Procedure and one Observation per pain
    rating (see the module docs)."""
    key = session.model_dump_json()
    proc_id = str(uuid.uuid5(_NS, key))
    when = session.date.isoformat()
    who = _subject(subject, "session")
    feedback_ext = []
    for f in session.feedback:
        parts = [
            _ext("stretch", valueCoding=_coding("stretch", f.stretch_id)),
            _ext("setsDone", valueInteger=f.sets_done),
        ]
        if f.next_morning is not None:
            parts.append(_ext("nextMorning", valueCode=f.next_morning))
        if f.note:
            parts.append(_ext("note", valueString=f.note))
        feedback_ext.append({"url": EXTENSION_BASE + "stretch-feedback", "extension": parts})
    extensions = [
        _ext(EXTENSION_BASE + "session-context", valueCoding=_coding("context", session.context)),
        *feedback_ext,
        *(
            _ext(EXTENSION_BASE + "red-flag", valueCoding=_coding("red-flag", flag))
            for flag in sorted(session.red_flags)
        ),
    ]
    done = any(f.sets_done > 0 for f in session.feedback)
    procedure: JSON = {
        "resourceType": "Procedure",
        "id": proc_id,
        "extension": extensions,
        "basedOn": [dict(based_on) if based_on else {"display": "SI joint stretching plan"}],
        "status": "completed" if done else "not-done",
        "code": {"coding": [dict(EXERCISE_THERAPY)], "text": "SI joint stretching session"},
        "subject": who,
        "performedDateTime": when,
    }
    entries = [{"fullUrl": f"urn:uuid:{proc_id}", "resource": procedure}]
    for f in session.feedback:
        for phase, pain in f.ratings():
            obs_id = str(uuid.uuid5(_NS, f"{key}|{f.stretch_id}|{phase}"))
            observation = {
                "resourceType": "Observation",
                "id": obs_id,
                "extension": [
                    _ext(
                        EXTENSION_BASE + "exertion-phase",
                        valueCodeableConcept={"coding": [dict(_PHASES[phase])]},
                    ),
                    _ext(EXTENSION_BASE + "stretch", valueCoding=_coding("stretch", f.stretch_id)),
                ],
                "partOf": [{"reference": f"urn:uuid:{proc_id}"}],
                "status": "final",
                "code": {"coding": [dict(PAIN_SCORE)]},
                "subject": who,
                "effectiveDateTime": when,
                "valueInteger": pain,
            }
            entries.append({"fullUrl": f"urn:uuid:{obs_id}", "resource": observation})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _one(items: list[Any], what: str) -> Any:
    if len(items) != 1:
        raise InvalidArgumentError(f"the Bundle must hold exactly one {what}, not {len(items)}")
    return items[0]


def _exts(resource: Mapping[str, Any], name: str) -> list[JSON]:
    return [e for e in resource.get("extension", ()) if e.get("url") == EXTENSION_BASE + name]


def _code(coding: Mapping[str, Any], system: str) -> str:
    if coding.get("system") != CODE_SYSTEM_BASE + system:
        raise InvalidArgumentError(f"expected a {system} code, got {coding!r}")
    return str(coding["code"])


def session_from_fhir(bundle: Mapping[str, Any]) -> Session:
    """Read a Bundle made by :func:`session_to_fhir` back into a :class:`Session`.

    Raises
    ------
    InvalidArgumentError
        It is not such a Bundle (wrong resource type, no single Procedure, a pain
        rating for a stretch with no feedback, a code from another system ...).
    pydantic.ValidationError
        A value is out of range (pain above 10, a date in the future ...).
    """
    try:
        return _read_bundle(bundle)
    except (InvalidArgumentError, ValidationError):
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidArgumentError(f"not a sirecommend session Bundle: {exc!r}") from None


def _read_bundle(bundle: Mapping[str, Any]) -> Session:
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise InvalidArgumentError("session_from_fhir() takes a FHIR Bundle (a dict)")
    resources = [e["resource"] for e in bundle.get("entry", ())]
    proc = _one([r for r in resources if r["resourceType"] == "Procedure"], "Procedure")
    context = _code(
        _one(_exts(proc, "session-context"), "session context")["valueCoding"], "context"
    )
    fields: dict[str, dict[str, Any]] = {}
    for ext in _exts(proc, "stretch-feedback"):
        parts = {p["url"]: p for p in ext["extension"]}
        sid = _code(parts["stretch"]["valueCoding"], "stretch")
        fields[sid] = {"stretch_id": sid, "sets_done": parts["setsDone"]["valueInteger"]}
        if "nextMorning" in parts:
            fields[sid]["next_morning"] = parts["nextMorning"]["valueCode"]
        if "note" in parts:
            fields[sid]["note"] = parts["note"]["valueString"]
    by_code = {c["code"]: phase for phase, c in _PHASES.items()}
    for obs in (r for r in resources if r["resourceType"] == "Observation"):
        if obs["code"]["coding"][0]["code"] != PAIN_SCORE["code"]:
            raise InvalidArgumentError("an Observation that is not a LOINC 72514-3 pain score")
        phase_ext = _one(_exts(obs, "exertion-phase"), "exertion phase")
        phase = by_code[phase_ext["valueCodeableConcept"]["coding"][0]["code"]]
        sid = _code(_one(_exts(obs, "stretch"), "stretch")["valueCoding"], "stretch")
        if sid not in fields:
            raise InvalidArgumentError(f"a pain score for {sid!r}, which has no feedback")
        fields[sid][f"pain_{phase}"] = obs["valueInteger"]
    return Session(
        date=dt.date.fromisoformat(proc["performedDateTime"]),
        context=context,
        feedback=tuple(Feedback.model_validate(f) for f in fields.values()),
        red_flags=frozenset(_code(e["valueCoding"], "red-flag") for e in _exts(proc, "red-flag")),
    )
