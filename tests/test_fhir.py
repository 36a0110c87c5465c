"""FHIR export: an R4 CarePlan, valid by fhir.resources' R4B models and by the value sets."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sirecommend import KnowledgeBase, Profile, Routine, Step, load_knowledge, recommend
from sirecommend.fhir import CODE_SYSTEM_BASE, EXTENSION_BASE, SNOMED, to_fhir

# Value sets of the coded fields we emit (FHIR R4, checked by hand: the R4B models
# accept any string for a code).
REQUEST_STATUS = {
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
}
CARE_PLAN_INTENT = {"proposal", "plan", "order", "option"}
REQUEST_INTENT = {
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
}
CARE_PLAN_ACTIVITY_STATUS = {
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
NARRATIVE_STATUS = {"generated", "extensions", "additional", "empty"}
UNITS_OF_TIME = {"s", "min", "h", "d", "wk", "mo", "a"}
UCUM = "http://unitsofmeasure.org"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# Our own codes, as documented in sirecommend.fhir.
RANGES = {"full", "reduced"}
PHASES = {"warm_up", "targeted", "cool_down"}
ROUTINE_STATUS = {"ok", "referred", "nothing_fits"}
URGENCIES = {"emergency", "urgent", "stop_and_review"}

PACK = """
[[source]]
id = "clinic-notes"
kind = "guideline"
title = "Clinic notes"
publisher = "Test clinic"

[[muscle]]
id = "calves"
name = "Calves"
cites = ["clinic-notes"]

[[stretch]]
id = "calf_standing"
name = "Standing calf stretch"
phase = "targeted"
position = "standing"
movements = ["hip_extension"]
targets = ["calves"]
cites = ["clinic-notes"]

[stretch.dosage]
hold_seconds = [30, 30]
sets = [1, 1]
per_side = true
cites = ["clinic-notes"]

[[stretch.instructions]]
text = "Lean on a wall."
cites = ["clinic-notes"]

[[stretch.suits]]
context = "after_sitting"
cites = ["clinic-notes"]
"""


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    pack = tmp_path_factory.mktemp("pack") / "calf.toml"
    pack.write_text(PACK, encoding="utf-8")
    return load_knowledge(pack)


PROFILES = [
    Profile(context="after_sitting"),
    Profile(context="after_sitting", equipment={"strap"}, aggravated=True, minutes=6),
    Profile(context="cool_down", equipment={"strap", "foam_roller", "towel"}, focus={"glutes"}),
    Profile(context="after_sleep", pregnancy_trimester=2),  # alternatives stand in
    Profile(context="warm_up", avoid_positions={"floor"}),  # nothing fits
    Profile(context="warm_up", red_flags={"saddle_numbness", "fever"}),  # referred
]


def routines() -> Iterator[Routine]:
    for p in PROFILES:
        yield recommend(p)


def walk(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


def sub(ext: dict[str, Any], url: str) -> list[Any]:
    """The values of the sub-extensions ``url`` of a complex extension."""
    values = []
    for e in ext["extension"]:
        if e["url"] == url:
            (value,) = [v for k, v in e.items() if k.startswith("value")] or [e]
            values.append(value)
    return values


def ext_of(resource: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [e for e in resource["extension"] if e["url"] == EXTENSION_BASE + name]
    return found


def check_value_sets(plan: dict[str, Any]) -> None:
    """Every coded field of the CarePlan and its ServiceRequests is in its value set."""
    assert plan["resourceType"] == "CarePlan"
    assert plan["status"] in REQUEST_STATUS
    assert plan["intent"] in CARE_PLAN_INTENT
    assert plan["text"]["status"] in NARRATIVE_STATUS
    for activity in plan.get("activity", []):
        assert ("reference" in activity) != ("detail" in activity)  # cpl-3
        if "detail" in activity:  # pragma: no cover - we use references
            assert activity["detail"]["status"] in CARE_PLAN_ACTIVITY_STATUS
    for sr in plan.get("contained", []):
        assert sr["resourceType"] == "ServiceRequest"
        assert FHIR_ID.match(sr["id"])
        assert sr["status"] in REQUEST_STATUS
        assert sr["intent"] in REQUEST_INTENT
        assert sr["occurrenceTiming"]["repeat"]["durationUnit"] in UNITS_OF_TIME
        dose = ext_of(sr, "stretch-dose")
        assert set(sub(dose, "rangeOfMotion")) <= RANGES
        assert set(sub(dose, "phase")) <= PHASES
    routine = ext_of(plan, "routine")
    assert set(sub(routine, "status")) <= ROUTINE_STATUS
    assert set(sub(routine, "referralUrgency")) <= URGENCIES
    for path, value in walk(plan):
        # FHIR JSON has no empty arrays, objects or strings, and no nulls.
        assert value not in ([], {}, "", None), path
        if isinstance(value, dict) and "system" in value:
            assert re.match(r"^https?://", value["system"]), path
            assert value.get("code"), path
        if isinstance(value, dict) and ("unit" in value and "value" in value):
            assert value["system"] == UCUM, path
            assert value["code"] == "s", path
        if isinstance(value, dict) and "url" in value and path.endswith("]"):
            # ext-1: a value or sub-extensions, never both, never neither.
            has_value = [k for k in value if k.startswith("value")]
            assert len(has_value) + ("extension" in value) == 1, path


class TestShape:
    @pytest.mark.parametrize(
        "routine", list(routines()), ids=[p.model_dump_json() for p in PROFILES]
    )
    def test_coded_fields_are_in_their_value_sets(self, routine: Routine) -> None:
        check_value_sets(to_fhir(routine))

    @pytest.mark.parametrize(
        "routine", list(routines()), ids=[p.model_dump_json() for p in PROFILES]
    )
    def test_is_plain_json(self, routine: Routine) -> None:
        plan = to_fhir(routine)
        assert json.loads(json.dumps(plan)) == plan

    def test_activities_are_the_steps_in_order(self) -> None:
        routine = recommend(context="cool_down", equipment={"strap", "foam_roller"})
        plan = to_fhir(routine)
        contained = {sr["id"]: sr for sr in plan["contained"]}
        assert len(plan["activity"]) == len(routine.steps) == len(contained)
        for n, (activity, step) in enumerate(zip(plan["activity"], routine.steps, strict=True), 1):
            ref = activity["reference"]["reference"]
            assert ref == f"#step-{n}"
            sr = contained[ref[1:]]
            assert sr["code"]["coding"][0] == {
                "system": SNOMED,
                "code": "229065009",
                "display": "Exercise therapy",
            }
            assert sr["code"]["coding"][1]["code"] == step.stretch_id
            assert sr["code"]["text"] == activity["reference"]["display"] == step.name

    def test_every_step_field_is_exported(self) -> None:
        routine = recommend(context="cool_down", equipment={"foam_roller"}, pregnancy_trimester=2)
        plan = to_fhir(routine)
        exported = {
            "stretch_id", "name", "phase", "position", "position_name", "equipment",
            "equipment_name", "movements", "targets", "hold_seconds", "sets", "per_side",
            "range_of_motion", "instructions", "cautions", "reasons", "sources", "seconds",
            "replaces", "progression",
        }  # fmt: skip
        assert exported == set(Step.model_fields)  # a new Step field must be exported too
        moved = routine.model_copy(
            update={
                "steps": tuple(s.model_copy(update={"progression": "up"}) for s in routine.steps)
            }
        )
        for sr in to_fhir(moved)["contained"]:
            assert sub(ext_of(sr, "stretch-dose"), "progression") == ["up"]
        for sr in plan["contained"]:
            assert sub(ext_of(sr, "stretch-dose"), "progression") == []
        kb = load_knowledge()
        for sr, step in zip(plan["contained"], routine.steps, strict=True):
            dose = ext_of(sr, "stretch-dose")
            assert sub(dose, "holdSeconds") == [step.hold_seconds]
            assert sub(dose, "sets") == [step.sets]
            assert sub(dose, "perSide") == [step.per_side]
            assert sub(dose, "rangeOfMotion") == [step.range_of_motion]
            assert sub(dose, "phase") == [step.phase]
            assert sub(dose, "position") == [
                {
                    "system": CODE_SYSTEM_BASE + "position",
                    "code": step.position,
                    "display": step.position_name,
                }
            ]
            assert [c["code"] for c in sub(dose, "equipment")] == (
                [step.equipment] if step.equipment else []
            )
            assert [c["display"] for c in sub(dose, "equipment")] == (
                [step.equipment_name] if step.equipment_name else []
            )
            assert [c["code"] for c in sub(dose, "movement")] == list(step.movements)
            assert sub(dose, "estimatedDuration")[0]["value"] == step.seconds
            assert [c["code"] for c in sub(dose, "replaces")] == (
                [step.replaces] if step.replaces else []
            )
            assert sub(dose, "caution") == list(step.cautions)
            assert sub(dose, "citation") == list(step.sources)
            assert [b["coding"][0]["code"] for b in sr["bodySite"]] == list(step.targets)
            assert [b["text"] for b in sr["bodySite"]] == [kb.muscles[m].name for m in step.targets]
            assert sr["occurrenceTiming"]["repeat"] == {
                "count": step.sets * step.sides,
                "duration": step.hold_seconds,
                "durationUnit": "s",
            }
            for line in (*step.instructions, *step.cautions):
                assert line in sr["patientInstruction"]
            assert [r["text"] for r in sr["reasonCode"]] == list(step.reasons)
        assert any(s.replaces for s in routine.steps)
        assert any(s.equipment for s in routine.steps)
        assert any(s.cautions for s in routine.steps)
        assert any(not s.cautions for s in routine.steps)

    def test_routine_extension_keeps_profile_provenance_and_exclusions(self) -> None:
        profile = Profile(context="after_sitting", minutes=5, aggravated=True)
        routine = recommend(profile)
        plan = to_fhir(routine)
        ext = ext_of(plan, "routine")
        assert sub(ext, "status") == ["ok"]
        assert sub(ext, "context")[0]["code"] == "after_sitting"
        assert sub(ext, "totalDuration")[0]["value"] == routine.total_seconds
        assert Profile.model_validate_json(sub(ext, "profile")[0]) == profile
        assert sub(ext, "version") == [routine.provenance.version]
        assert sub(ext, "knowledgeDigest") == [routine.provenance.knowledge_digest]
        assert sub(ext, "pack") == []
        exclusions = sub(ext, "exclusion")
        assert [sub(e, "stretch")[0]["code"] for e in exclusions] == [
            e.stretch_id for e in routine.excluded
        ]
        for got, want in zip(exclusions, routine.excluded, strict=True):
            assert [(c["code"], c["display"]) for c in sub(got, "reason")] == [
                (r.code.value, r.message) for r in want.reasons
            ]
        notes = [n["text"] for n in plan["note"]]
        assert [f"Stop rule: {c}" for c in routine.cautions] == notes[:-1]
        assert notes[-1] == routine.notice
        assert plan["description"].startswith(f"{len(routine.steps)} steps, about ")

    def test_red_flags_give_a_plan_without_activities(self) -> None:
        routine = recommend(context="warm_up", red_flags={"unexplained_weight_loss", "night_pain"})
        plan = to_fhir(routine, subject={"reference": "Patient/p1"})
        assert "activity" not in plan
        assert "contained" not in plan
        assert plan["subject"] == {"reference": "Patient/p1"}
        assert plan["note"][0]["text"].startswith(
            "URGENT: red flags reported (night_pain, unexplained_weight_loss)."
        )
        assert routine.referral is not None
        assert routine.referral.message in plan["note"][0]["text"]
        ext = ext_of(plan, "routine")
        assert sub(ext, "referralUrgency") == ["urgent"]
        assert [c["code"] for c in sub(ext, "redFlag")] == ["night_pain", "unexplained_weight_loss"]
        assert sub(ext, "status") == ["referred"]
        assert "URGENT" in plan["text"]["div"]
        assert plan["description"].startswith("No exercise: red flags")

    def test_nothing_fits(self) -> None:
        plan = to_fhir(recommend(context="warm_up", avoid_positions={"floor"}))
        assert "activity" not in plan
        assert plan["description"].startswith("No step could be given")

    def test_narrative_is_escaped_xhtml(self) -> None:
        routine = recommend(context="after_sitting")
        div = to_fhir(routine)["text"]["div"]
        root = ET.fromstring(div)
        assert root.tag == "{http://www.w3.org/1999/xhtml}div"
        text = "".join(root.itertext())
        for step in routine.steps:
            assert step.name in text
        assert "<script" not in div

    def test_default_subject_and_single_step_wording(self, clinic: KnowledgeBase) -> None:
        routine = recommend(context="after_sitting", knowledge=clinic)
        plan = to_fhir(routine)  # shipped knowledge: the pack's muscle is shown in words
        calf = next(sr for sr in plan["contained"] if sr["code"]["text"] == "Standing calf stretch")
        assert calf["bodySite"][0]["text"] == "calves"
        assert to_fhir(routine, knowledge=clinic)["contained"][-1]["bodySite"][0]["text"] in {
            "Calves",
            "Hamstrings",
            "Glutes",
            "Side of the trunk",
            "Hip flexors",
        }
        assert plan["subject"] == {"display": "The person this routine was made for"}
        assert sub(ext_of(plan, "routine"), "pack") == list(routine.provenance.packs)
        one = routine.model_copy(update={"steps": routine.steps[:1]})
        assert to_fhir(one)["description"].startswith("1 step, about ")


class TestWithFhirResources:
    """Structure, checked by the R4B models of fhir.resources (``sirecommend[fhir]``)."""

    @pytest.mark.parametrize(
        "routine", list(routines()), ids=[p.model_dump_json() for p in PROFILES]
    )
    def test_validates(self, routine: Routine) -> None:
        careplan = pytest.importorskip("fhir.resources.R4B.careplan")
        servicerequest = pytest.importorskip("fhir.resources.R4B.servicerequest")
        plan = to_fhir(routine, subject={"reference": "Patient/example"})
        model = careplan.CarePlan.model_validate(plan)
        assert model.status == plan["status"]
        for sr in plan.get("contained", []):
            servicerequest.ServiceRequest.model_validate(sr)
        assert len(model.activity or []) == len(routine.steps)
        # Nothing is lost on the way through the models.
        again = json.loads(model.model_dump_json(exclude_none=True))
        assert again == plan

    def test_the_models_do_not_check_codes(self) -> None:
        careplan = pytest.importorskip("fhir.resources.R4B.careplan")
        plan = to_fhir(recommend(context="after_sitting"))
        bogus = {**plan, "status": "bogus"}
        careplan.CarePlan.model_validate(bogus)  # accepted: hence check_value_sets
        with pytest.raises(AssertionError):
            check_value_sets(bogus)


def test_pyproject_declares_the_fhir_extra() -> None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(req.startswith("fhir.resources") for req in extras["fhir"])
