"""FHIR for the programme: the plan as a CarePlan, a session as a Bundle, and back."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sirecommend import Feedback, InvalidArgumentError, Session, load_knowledge, plan
from sirecommend import fhir as fhir_module
from sirecommend._fhir_programme import (
    AFTER_EXERCISE,
    CODE_SYSTEM_BASE,
    DURING_EXERCISE,
    EXTENSION_BASE,
    PAIN_SCORE,
    session_from_fhir,
)
from sirecommend.fhir import to_fhir

careplan = pytest.importorskip("fhir.resources.R4B.careplan")
bundle_mod = pytest.importorskip("fhir.resources.R4B.bundle")

# FHIR R4 value sets of the coded fields we emit (the R4B models accept any code).
CARE_PLAN_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"}
CARE_PLAN_INTENT = {"proposal", "plan", "order", "option"}
ACTIVITY_KIND = {
    "Appointment",
    "CommunicationRequest",
    "DeviceRequest",
    "MedicationRequest",
    "NutritionOrder",
    "Task",
    "ServiceRequest",
    "VisionPrescription",
}
ACTIVITY_STATUS = {
    "not-started",
    "scheduled",
    "in-progress",
    "on-hold",
    "completed",
    "cancelled",
    "stopped",
    "unknown",
    "entered-in-error",
}
UNITS_OF_TIME = {"s", "min", "h", "d", "wk", "mo", "a"}
DAYS_OF_WEEK = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
EVENT_TIMING = {"MORN", "AFT", "EVE", "NIGHT", "PHS", "HS", "WAKE", "C", "CM", "CD", "CV", "AC"}
EVENT_STATUS = {
    "preparation",
    "in-progress",
    "not-done",
    "on-hold",
    "stopped",
    "completed",
    "entered-in-error",
    "unknown",
}
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended"}
BUNDLE_TYPE = {"document", "message", "transaction", "batch", "collection", "searchset"}

MONDAY = dt.date(2026, 3, 2)


def test_constants_match_the_routine_export() -> None:
    assert EXTENSION_BASE == fhir_module.EXTENSION_BASE
    assert CODE_SYSTEM_BASE == fhir_module.CODE_SYSTEM_BASE
    assert (PAIN_SCORE["code"], DURING_EXERCISE["code"], AFTER_EXERCISE["code"]) == (
        "72514-3",
        "309604004",
        "255214003",
    )


class TestPlan:
    def test_care_plan_is_valid_with_a_schedule(self) -> None:
        p = plan(
            {"context": "after_sitting"},
            MONDAY,
            weeks=2,
            days=[1, 3, 5],
            contexts=["after_sleep", "after_sitting"],
        )
        cp = to_fhir(p, subject={"reference": "Patient/1"})
        careplan.CarePlan.model_validate(cp)
        assert cp["status"] in CARE_PLAN_STATUS
        assert cp["intent"] in CARE_PLAN_INTENT
        assert cp["period"] == {"start": "2026-03-02", "end": "2026-03-15"}
        assert cp["subject"] == {"reference": "Patient/1"}
        assert len(cp["activity"]) == 2
        for activity, routine in zip(cp["activity"], p.routines, strict=True):
            detail = activity["detail"]
            assert detail["kind"] in ACTIVITY_KIND
            assert detail["status"] in ACTIVITY_STATUS
            assert detail["code"]["coding"][0]["code"] == "229065009"
            assert detail["code"]["coding"][1]["code"] == routine.context
            repeat = detail["scheduledTiming"]["repeat"]
            assert "count" not in repeat  # the sets are a dose, never a count of sessions
            assert (repeat["frequency"], repeat["period"]) == (1, 1)
            assert repeat["periodUnit"] in UNITS_OF_TIME
            assert repeat["dayOfWeek"] == ["mon", "wed", "fri"]
            assert set(repeat["dayOfWeek"]) <= DAYS_OF_WEEK
            assert set(repeat.get("when", [])) <= EVENT_TIMING
            assert ("when" in repeat) == (routine.context == "after_sleep")
            for step in routine.steps:
                assert (
                    f"{step.name}: hold {step.hold_seconds} s, {step.sets} sets"
                    in (detail["description"])
                )
        assert any("Review the plan on 2026-03-16" in n["text"] for n in cp["note"])
        assert cp["id"] == to_fhir(p)["id"]
        assert cp["subject"] != to_fhir(p)["subject"]

    def test_reduced_range_is_in_the_dose(self) -> None:
        cp = to_fhir(plan({"context": "warm_up", "aggravated": True}, MONDAY))
        assert "reduced range" in cp["activity"][0]["detail"]["description"]

    def test_a_referred_plan_has_no_activity(self) -> None:
        cp = to_fhir(plan({"context": "warm_up", "red_flags": {"fever"}}, MONDAY))
        careplan.CarePlan.model_validate(cp)
        assert "activity" not in cp
        assert "warning sign" in cp["note"][0]["text"]

    def test_other_objects_are_refused(self) -> None:
        with pytest.raises(InvalidArgumentError, match="Routine, a Plan or a Session"):
            to_fhir({"context": "warm_up"})  # type: ignore[arg-type]


def fb(sid: str, sets: int, during: int, **kw: Any) -> Feedback:
    return Feedback(stretch_id=sid, sets_done=sets, pain_during=during, **kw)


SESSION = Session(
    date=dt.date(2026, 1, 5),
    context="after_sitting",
    feedback=(
        fb("hamstring_supine", 2, 3, pain_after=1, next_morning="same", note="tight"),
        fb("lower_trunk_rotation", 2, 0),
    ),
    red_flags=frozenset({"tingling"}),
)


def resources(b: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind]


class TestSession:
    def test_bundle_is_valid(self) -> None:
        b = to_fhir(SESSION, based_on={"reference": "CarePlan/plan-1"})
        bundle_mod.Bundle.model_validate(json.loads(json.dumps(b)))
        assert b["type"] in BUNDLE_TYPE
        (proc,) = resources(b, "Procedure")
        assert proc["status"] in EVENT_STATUS
        assert proc["status"] == "completed"
        assert proc["code"]["coding"][0] == {
            "system": "http://snomed.info/sct",
            "code": "229065009",
            "display": "Exercise therapy",
        }
        assert proc["basedOn"] == [{"reference": "CarePlan/plan-1"}]
        assert proc["performedDateTime"] == "2026-01-05"
        obs = resources(b, "Observation")
        assert len(obs) == 3  # one per rating: during, after, during
        phases = []
        for o in obs:
            assert o["status"] in OBSERVATION_STATUS
            assert o["code"]["coding"][0]["system"] == "http://loinc.org"
            assert o["code"]["coding"][0]["code"] == "72514-3"
            assert isinstance(o["valueInteger"], int)
            assert 0 <= o["valueInteger"] <= 10
            assert o["effectiveDateTime"] == "2026-01-05"
            assert o["partOf"] == [{"reference": f"urn:uuid:{proc['id']}"}]
            (phase,) = [e for e in o["extension"] if e["url"].endswith("exertion-phase")]
            phases.append(phase["valueCodeableConcept"]["coding"][0]["code"])
        assert phases == ["309604004", "255214003", "309604004"]
        assert [o["valueInteger"] for o in obs] == [3, 1, 0]

    def test_not_done_and_default_reference(self) -> None:
        s = Session(date=dt.date(2026, 1, 5), context="warm_up")
        b = to_fhir(s)
        (proc,) = resources(b, "Procedure")
        assert proc["status"] == "not-done"
        assert proc["basedOn"][0]["display"]
        assert resources(b, "Observation") == []
        assert Session.from_fhir(b) == s

    def test_round_trip(self) -> None:
        b = to_fhir(SESSION)
        assert Session.from_fhir(b) == SESSION
        assert Session.from_fhir(json.loads(json.dumps(b))) == SESSION
        assert to_fhir(SESSION) == b  # ids are stable

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(sorted(load_knowledge().stretches)),
                st.integers(0, 3),
                st.integers(0, 10),
                st.none() | st.integers(0, 10),
                st.none() | st.sampled_from(["better", "same", "worse"]),
                st.text(max_size=20),
            ),
            unique_by=lambda t: t[0],
            max_size=4,
        ),
        st.dates(dt.date(2020, 1, 1), dt.date(2026, 1, 1)),
    )
    def test_any_session_round_trips(self, rows: list[tuple[Any, ...]], day: dt.date) -> None:
        s = Session(
            date=day,
            context="after_sleep",
            feedback=tuple(
                Feedback(
                    stretch_id=r[0],
                    sets_done=r[1],
                    pain_during=r[2],
                    pain_after=r[3],
                    next_morning=r[4],
                    note=r[5].strip(),
                )
                for r in rows
            ),
        )
        assert Session.from_fhir(to_fhir(s)) == s

    @pytest.mark.parametrize(
        "breaking",
        [
            lambda b: b.update(resourceType="Patient"),
            lambda b: b["entry"].pop(0),
            lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])),
            lambda b: b["entry"][1]["resource"]["code"]["coding"][0].update(code="1-1"),
            lambda b: b["entry"][0]["resource"]["extension"][0]["valueCoding"].update(
                system="http://example.org"
            ),
            lambda b: b["entry"][0]["resource"]["extension"].pop(1),
            lambda b: b["entry"][0]["resource"].pop("performedDateTime"),
            lambda b: b["entry"][1]["resource"]["extension"][0]["valueCodeableConcept"]["coding"][
                0
            ].update(code="0"),
        ],
    )
    def test_a_bad_bundle_is_a_clear_error(self, breaking: Any) -> None:
        b = copy.deepcopy(to_fhir(SESSION))
        breaking(b)
        with pytest.raises(InvalidArgumentError):
            session_from_fhir(b)

    def test_out_of_range_values_are_validation_errors(self) -> None:
        b = copy.deepcopy(to_fhir(SESSION))
        b["entry"][1]["resource"]["valueInteger"] = 11
        with pytest.raises(ValidationError):
            Session.from_fhir(b)
        with pytest.raises(InvalidArgumentError):
            session_from_fhir("not a bundle")  # type: ignore[arg-type]
