"""Export a routine as an HL7 FHIR R4 ``CarePlan`` (a plain ``dict``, standard library only).

The plan holds one ``activity`` per step, in routine order. FHIR R4 gives
``CarePlan.activity.detail`` no body site and no patient instruction, so each
activity references a **contained** ``ServiceRequest`` (``#step-1``, ``#step-2`` ...)
that has them as real fields:

=========================  =========================================================
ServiceRequest field       from the step
=========================  =========================================================
``code``                   SNOMED CT 229065009 *Exercise therapy*, plus the stretch
                           id in the ``stretch`` code system below; text: its name
``bodySite``               each target muscle (``muscle`` code system)
``occurrenceTiming``       ``repeat.count`` = sets x sides, ``repeat.duration`` =
                           hold seconds (``durationUnit`` ``s``); ``code.text`` says
                           the dose in words
``patientInstruction``     the numbered instructions, then the cautions
``reasonCode``             why the step is in the routine (text)
``extension``              the whole dose, see *stretch-dose* below
=========================  =========================================================

Nothing that FHIR has no field for is dropped: it goes in two documented complex
extensions under ``https://sirecommend.invalid/fhir/StructureDefinition/``
(a base that will never resolve, chosen so the URLs cannot clash with anyone's):

``stretch-dose`` (on each ServiceRequest): ``holdSeconds`` (valueInteger),
``sets`` (valueInteger), ``perSide`` (valueBoolean), ``rangeOfMotion``
(valueCode ``full`` or ``reduced``), ``phase`` (valueCode ``warm_up``,
``targeted``, ``cool_down``), ``position`` and ``equipment`` (valueCoding),
``movement`` (valueCoding, repeated), ``estimatedDuration`` (valueDuration, in
seconds), ``replaces`` (valueCoding: the stretch this one stands in for),
``progression`` (valueCode ``start``, ``up``, ``same``, ``down``: how logged feedback
moved the dose; absent without history),
``caution`` and ``citation`` (valueString, repeated).

``routine`` (on the CarePlan): ``status`` (valueCode ``ok``, ``referred`` or
``nothing_fits``), ``context`` (valueCoding), ``totalDuration`` (valueDuration),
``profile`` (valueString: the profile as JSON), ``version`` and
``knowledgeDigest`` (valueString), ``pack`` (valueString, repeated),
``referralUrgency`` (valueCode), ``redFlag`` (valueCoding, repeated), and one
``exclusion`` per stretch left out, itself holding ``stretch`` (valueCoding) and a
``reason`` (valueCoding in the ``reason`` code system, display = the message)
per reason.

The CarePlan is ``status: active``, ``intent: proposal`` (a suggestion made by
software, not an order). The stop rules, the notice and, for red flags, the
referral with its urgency are ``note`` entries. A red-flag routine has no
activities at all. The local code systems are
``https://sirecommend.invalid/fhir/CodeSystem/{stretch,muscle,position,equipment,
movement,context,red-flag,reason}``; codes are the knowledge ids.

Examples
--------
>>> from sirecommend import recommend
>>> from sirecommend.fhir import to_fhir
>>> plan = to_fhir(recommend(context="after_sitting"))
>>> plan["resourceType"], plan["status"], plan["intent"]
('CarePlan', 'active', 'proposal')
>>> first = plan["contained"][0]
>>> plan["activity"][0]["reference"]["reference"], first["code"]["coding"][0]["code"]
('#step-1', '229065009')
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sirecommend import KnowledgeBase, Plan, Routine, Session, Step, load_knowledge
from sirecommend._fhir_programme import plan_to_fhir, session_to_fhir
from sirecommend._render import steps_and_time
from sirecommend.errors import InvalidArgumentError

__all__ = [
    "CODE_SYSTEM_BASE",
    "EXERCISE_THERAPY",
    "EXTENSION_BASE",
    "SNOMED",
    "plan_to_fhir",
    "session_to_fhir",
    "to_fhir",
]

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
#: SNOMED CT 229065009 |Exercise therapy (regime/therapy)|.
EXERCISE_THERAPY: Mapping[str, str] = {
    "system": SNOMED,
    "code": "229065009",
    "display": "Exercise therapy",
}
EXTENSION_BASE = "https://sirecommend.invalid/fhir/StructureDefinition/"
CODE_SYSTEM_BASE = "https://sirecommend.invalid/fhir/CodeSystem/"

_URGENCY_WORDS = {
    "emergency": "EMERGENCY",
    "same_day": "SEE A DOCTOR TODAY",
    "urgent": "URGENT",
    "stop_and_review": "STOP AND REVIEW",
}
_DEFAULT_SUBJECT: Mapping[str, str] = {"display": "The person this routine was made for"}

JSON = dict[str, Any]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def _coding(system: str, code: str, display: str) -> JSON:
    return {"system": CODE_SYSTEM_BASE + system, "code": code, "display": display}


def _name(table: Mapping[str, _Named], ident: str) -> str:
    entry = table.get(ident)
    return entry.name if entry is not None else ident.replace("_", " ")


def _seconds(value: int) -> JSON:
    return {"value": value, "unit": "s", "system": UCUM, "code": "s"}


def _ext(name: str, **value: Any) -> JSON:
    (kind, v), *_ = value.items()
    return {"url": name, kind: v}


def _many(name: str, kind: str, values: Iterable[Any]) -> list[JSON]:
    return [{"url": name, kind: v} for v in values]


def _dose_words(step: Step) -> str:
    sides = ", each side" if step.per_side else ""
    rng = "reduced range" if step.range_of_motion == "reduced" else "full comfortable range"
    return f"Hold {step.hold_seconds} s, {step.sets} sets{sides}; {rng}"


def _service_request(n: int, step: Step, kb: KnowledgeBase, subject: JSON) -> JSON:
    dose: list[JSON] = [
        _ext("holdSeconds", valueInteger=step.hold_seconds),
        _ext("sets", valueInteger=step.sets),
        _ext("perSide", valueBoolean=step.per_side),
        _ext("rangeOfMotion", valueCode=step.range_of_motion),
        _ext("phase", valueCode=step.phase),
        _ext("position", valueCoding=_coding("position", step.position, step.position_name)),
    ]
    if step.equipment is not None:
        kit = step.equipment_name or step.equipment
        dose.append(_ext("equipment", valueCoding=_coding("equipment", step.equipment, kit)))
    dose += _many(
        "movement",
        "valueCoding",
        (_coding("movement", m, _name(kb.movements, m)) for m in step.movements),
    )
    dose.append(_ext("estimatedDuration", valueDuration=_seconds(step.seconds)))
    if step.progression is not None:
        dose.append(_ext("progression", valueCode=step.progression))
    if step.replaces is not None:
        replaced = _coding("stretch", step.replaces, _name(kb.stretches, step.replaces))
        dose.append(_ext("replaces", valueCoding=replaced))
    dose += _many("caution", "valueString", step.cautions)
    dose += _many("citation", "valueString", step.sources)
    instruction = " ".join(f"{i}) {text}" for i, text in enumerate(step.instructions, 1))
    if step.cautions:
        instruction += " Take care: " + " ".join(step.cautions)
    return {
        "resourceType": "ServiceRequest",
        "id": f"step-{n}",
        "extension": [{"url": EXTENSION_BASE + "stretch-dose", "extension": dose}],
        "status": "active",
        "intent": "proposal",
        "code": {
            "coding": [
                dict(EXERCISE_THERAPY),
                _coding("stretch", step.stretch_id, step.name),
            ],
            "text": step.name,
        },
        "subject": subject,
        "occurrenceTiming": {
            "repeat": {
                "count": step.sets * step.sides,
                "duration": step.hold_seconds,
                "durationUnit": "s",
            },
            "code": {"text": _dose_words(step)},
        },
        "reasonCode": [{"text": reason} for reason in step.reasons],
        "bodySite": [
            {
                "coding": [_coding("muscle", m, _name(kb.muscles, m))],
                "text": _name(kb.muscles, m),
            }
            for m in step.targets
        ],
        "patientInstruction": instruction,
    }


def _routine_extension(routine: Routine, kb: KnowledgeBase) -> JSON:
    prov = routine.provenance
    parts: list[JSON] = [
        _ext("status", valueCode=routine.status),
        _ext(
            "context",
            valueCoding=_coding("context", routine.context, _name(kb.contexts, routine.context)),
        ),
        _ext("totalDuration", valueDuration=_seconds(routine.total_seconds)),
        _ext("profile", valueString=routine.profile.model_dump_json()),
        _ext("version", valueString=prov.version),
        _ext("knowledgeDigest", valueString=prov.knowledge_digest),
        *_many("pack", "valueString", prov.packs),
    ]
    if routine.referral is not None:
        parts.append(_ext("referralUrgency", valueCode=routine.referral.urgency))
        parts += _many(
            "redFlag",
            "valueCoding",
            (_coding("red-flag", f, _name(kb.red_flags, f)) for f in routine.referral.red_flags),
        )
    for e in routine.excluded:
        reasons = [
            _ext("reason", valueCoding=_coding("reason", r.code.value, r.message))
            for r in e.reasons
        ]
        stretch = _ext("stretch", valueCoding=_coding("stretch", e.stretch_id, e.name))
        parts.append({"url": "exclusion", "extension": [stretch, *reasons]})
    return {"url": EXTENSION_BASE + "routine", "extension": parts}


def _narrative(routine: Routine, title: str) -> JSON:
    e = html.escape
    items = "".join(f"<li>{e(s.name)}: {e(_dose_words(s))}</li>" for s in routine.steps)
    body = f"<ol>{items}</ol>" if items else ""
    if routine.referral is not None:
        body += f"<p>{e(_referral_text(routine))}</p>"
    return {
        "status": "generated",
        "div": (
            f'<div xmlns="http://www.w3.org/1999/xhtml"><p><b>{e(title)}</b></p>{body}'
            f"<p>{e(routine.notice)}</p></div>"
        ),
    }


def _referral_text(routine: Routine) -> str:
    assert routine.referral is not None
    ref = routine.referral
    word = _URGENCY_WORDS.get(ref.urgency, ref.urgency.upper())
    return f"{word}: red flags reported ({', '.join(ref.red_flags)}). {ref.message}"


def _description(routine: Routine) -> str:
    if routine.status == "referred":
        return "No exercise: red flags were reported. See the referral note."
    if routine.status == "nothing_fits":
        return "No step could be given for this profile; the routine extension says why."
    return f"{steps_and_time(routine)}."


def to_fhir(
    routine: Routine | Plan | Session,
    *,
    subject: Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | None = None,
    based_on: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A routine or a plan as a FHIR R4 ``CarePlan``, a session as a ``Bundle`` (a ``dict``).

    A :class:`~sirecommend.Plan` and a :class:`~sirecommend.Session` are described in
    :mod:`sirecommend._fhir_programme` (:func:`plan_to_fhir`, :func:`session_to_fhir`;
    ``based_on`` is the CarePlan reference a session's Procedure points at).

    Parameters
    ----------
    routine : Routine, Plan or Session
        From :func:`sirecommend.recommend`, :func:`sirecommend.plan`, or a logged session.
    subject : mapping, optional
        The ``Reference`` to the patient, e.g. ``{"reference": "Patient/123"}``
        (default: a reference with only a ``display``, since a routine names no one).
    knowledge : KnowledgeBase, optional
        Used for the display names of muscles, movements and contexts (default: the
        shipped knowledge; ids it does not define are shown in words).

    Returns
    -------
    dict
        A ``CarePlan`` whose activities reference contained ``ServiceRequest``
        resources, one per step, in order; see the module documentation for every
        field and extension. ``json.dumps`` it to send it.

    Examples
    --------
    >>> from sirecommend import recommend
    >>> plan = to_fhir(recommend(context="warm_up", red_flags={"fever"}),
    ...                subject={"reference": "Patient/example"})
    >>> "activity" in plan, plan["note"][0]["text"][:30]
    (False, 'SEE A DOCTOR TODAY: red flags ')
    """
    if isinstance(routine, Plan):
        return plan_to_fhir(routine, subject=subject)
    if isinstance(routine, Session):
        return session_to_fhir(routine, subject=subject, based_on=based_on)
    if not isinstance(routine, Routine):
        raise InvalidArgumentError(
            f"to_fhir() takes a Routine, a Plan or a Session, not {type(routine).__name__}"
        )
    kb = knowledge if knowledge is not None else load_knowledge()
    who: JSON = dict(subject) if subject is not None else dict(_DEFAULT_SUBJECT)
    title = f"SI joint stretching routine: {_name(kb.contexts, routine.context)}"
    contained = [_service_request(n, s, kb, who) for n, s in enumerate(routine.steps, 1)]
    notes: list[JSON] = []
    if routine.referral is not None:
        notes.append({"text": _referral_text(routine)})
    notes += [{"text": f"Stop rule: {text}"} for text in routine.cautions]
    notes.append({"text": routine.notice})
    plan: JSON = {
        "resourceType": "CarePlan",
        "text": _narrative(routine, title),
        "contained": contained,
        "extension": [_routine_extension(routine, kb)],
        "status": "active",
        "intent": "proposal",
        "category": [{"text": "Home stretching routine for sacroiliac joint pain"}],
        "title": title,
        "description": _description(routine),
        "subject": who,
        "activity": [
            {"reference": {"reference": f"#{sr['id']}", "display": sr["code"]["text"]}}
            for sr in contained
        ],
        "note": notes,
    }
    pruned: dict[str, Any] = _prune(plan)
    return pruned


def _prune(value: Any) -> Any:
    """Drop empty arrays, objects and strings at every depth: FHIR JSON forbids them.

    >>> _prune({"a": [], "b": [{"c": ""}], "d": False, "e": 0})
    {'d': False, 'e': 0}
    """
    if isinstance(value, dict):
        kept = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [], "", None)}
    if isinstance(value, list):
        return [v for v in map(_prune, value) if v not in ({}, [], "", None)]
    return value
