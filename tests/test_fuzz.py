"""Bad input never crashes: the public API only raises its documented errors.

Arbitrary values for every :class:`Profile` field, and arbitrary (malformed) knowledge
packs written as TOML files, may only end in a pydantic ``ValidationError``, a
:class:`SirecommendError` or a routine. A :class:`SafetyError` is a SirecommendError
too, but here it fails the test: it would mean that valid input met a pipeline bug.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sirecommend import (
    Exclusion,
    KnowledgeError,
    Profile,
    Routine,
    SafetyError,
    SirecommendError,
    Step,
    Violation,
    audit,
    load_knowledge,
    recommend,
    shipped_knowledge_dir,
)
from sirecommend.safety import CHECKS
from sirecommend.testing import profiles

# pytest makes a new instance of a test class for every run, and mutmut runs the suite
# more than once in one process: to hypothesis that looks like two "executors" of one
# test method, which is harmless here (and intended for the shared Invariant tests).
REPEATABLE = [*settings.default.suppress_health_check, HealthCheck.differing_executors]


KB = load_knowledge()
FIELDS = sorted(Profile.model_fields)
KNOWN_IDS = sorted(
    {
        *KB.contexts,
        *KB.equipment,
        *KB.positions,
        *KB.position_groups,
        *KB.red_flags,
        *KB.muscles,
        *KB.stretches,
        *KB.movements,
        *KB.sources,
        *KB.rules,
        *KB.urgencies,
    }
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=80)
    | st.binary(max_size=10)
)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.frozensets(st.text(max_size=5) | st.integers(), max_size=4)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=8,
)
ids = st.sampled_from(KNOWN_IDS) | st.text(max_size=70)
id_collections = st.frozensets(ids, max_size=4) | st.lists(ids, max_size=4) | st.sets(ids)
PLAUSIBLE = {
    "context": ids,
    "aggravated": st.booleans(),
    "equipment": id_collections,
    "avoid_positions": id_collections,
    "red_flags": id_collections,
    "pregnancy_trimester": st.none() | st.integers(-1, 4),
    "minutes": st.none()
    | st.floats()
    | st.integers(-10, 2000)
    | st.floats(min_value=0, max_value=1e-300),
    "focus": id_collections,
}
assert set(PLAUSIBLE) == set(FIELDS)


@st.composite
def profile_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for a profile: valid ones with a few fields spoiled, plausible
    ones (known or misspelt ids, out-of-range numbers), or anything at all."""
    kind = draw(st.sampled_from(["spoiled", "plausible", "anything"]))
    if kind == "anything":
        return draw(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), anything))
    fields: dict[str, Any] = {}
    if kind == "spoiled":
        fields = draw(profiles(KB)).model_dump()
        for _ in range(draw(st.integers(0, 2))):
            name = draw(st.sampled_from(FIELDS))
            fields[name] = draw(PLAUSIBLE[name] | anything)
        return fields
    return draw(st.fixed_dictionaries({}, optional=PLAUSIBLE))


def only_documented_errors(call: Any, *args: Any, **kwargs: Any) -> Routine | None:
    """``call(...)``; None when it raised a documented error, which is fine."""
    try:
        result = call(*args, **kwargs)
    except SafetyError:
        raise
    except (ValidationError, SirecommendError):
        return None
    assert isinstance(result, Routine)
    return result


class TestAnyProfileFields:
    @settings(
        max_examples=max(20, settings.default.max_examples // 2),
        suppress_health_check=REPEATABLE,
    )
    @given(fields=profile_fields(), how=st.sampled_from(["keywords", "mapping", "profile"]))
    def test_only_documented_errors_or_a_routine(self, fields: dict[str, Any], how: str) -> None:
        def call() -> Routine:
            if how == "keywords":
                return recommend(**fields)
            if how == "mapping":
                return recommend(fields)
            return recommend(Profile(**fields))

        routine = only_documented_errors(call)
        if routine is not None:
            assert audit(routine, routine.profile, KB) == []

    @settings(
        max_examples=max(20, settings.default.max_examples // 2),
        suppress_health_check=REPEATABLE,
    )
    @given(profile=anything, knowledge=anything)
    def test_as_anything_at_all(self, profile: object, knowledge: object) -> None:
        only_documented_errors(recommend, profile, knowledge=knowledge)
        only_documented_errors(recommend, context="after_sitting", knowledge=knowledge)

    @settings(suppress_health_check=REPEATABLE)
    @given(pack=st.integers() | st.none() | st.binary() | st.lists(st.integers()))
    def test_a_pack_that_is_not_a_path(self, pack: object) -> None:
        with pytest.raises(KnowledgeError, match="must be a path"):
            load_knowledge(pack)  # type: ignore[arg-type]


# --- knowledge packs ----------------------------------------------------------------


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (None becomes the string "null")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items())
            + "}"
        )
    return toml_value(str(value))


def toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{toml_value(str(k))} = {toml_value(v)}\n" for k, v in doc.items())


def test_toml_writer_round_trips() -> None:
    doc = {"a": [1, 2.5, 'x\ny\x7f"', True, {"b c": []}], "ü": {"d": -3}}
    assert tomllib.loads(toml_document(doc)) == doc


def _renamed(doc: dict[str, Any], suffix: str) -> dict[str, Any]:
    """A shipped file's entries under new ids, so the pack adds rather than clashes."""
    out = copy.deepcopy(doc)
    for entries in out.values():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                entry["id"] += suffix
    return out


SHIPPED_DOCS = [
    tomllib.loads(p.read_text(encoding="utf-8"))
    for p in sorted(shipped_knowledge_dir().rglob("*.toml"))
]
# Valid starting points: shipped files with their entries renamed (new stretches, new
# vocabulary ...), shipped files as they are (every id a duplicate), and an override.
BASES = [
    *(_renamed(d, "_x") for d in SHIPPED_DOCS),
    SHIPPED_DOCS[0],
    {
        "stretch": [
            {**next(d for d in SHIPPED_DOCS if "stretch" in d)["stretch"][0], "override": True}
        ]
    },
]
REPLACEMENTS = (
    st.sampled_from(KNOWN_IDS)
    | st.sampled_from(["si-stretch-guide#p99", "si-stretch-guide", "floor", "x_x", "override"])
    | scalars.filter(lambda v: v is not None)
    | st.lists(st.sampled_from(KNOWN_IDS), max_size=3)
    | st.builds(dict)
)


def _containers(doc: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in a nested document."""
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in items:
        out.append((doc, key))
        _containers(value, out)
    return out


@st.composite
def malformed_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid pack document with a few random edits: deletions, swaps, extra keys."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 4))):
        places = _containers(doc, [])
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        edit = draw(st.sampled_from(["delete", "replace", "add", "copy", "override"]))
        if edit == "delete":
            del container[key]
        elif edit == "replace":
            container[key] = draw(REPLACEMENTS)
        elif edit == "add" and isinstance(container, dict):
            container[draw(st.sampled_from(["extra", "id", "override", "phase"]))] = draw(
                REPLACEMENTS
            )
        elif edit == "copy" and isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        elif edit == "override" and isinstance(container[key], dict):
            container[key]["override"] = True
    return doc


# Mostly near-valid documents, which get past TOML and the schema to the deeper checks.
pack_files = st.one_of(
    malformed_documents().map(toml_document),
    malformed_documents().map(toml_document),
    malformed_documents().map(toml_document),
    st.dictionaries(st.text(max_size=12), anything, max_size=4).map(toml_document),
    st.text(max_size=200),
    st.binary(max_size=200),
)


@settings(max_examples=max(20, settings.default.max_examples // 2))
@given(files=st.lists(pack_files, min_size=1, max_size=2), data=st.data())
def test_malformed_packs_only_raise_knowledge_errors(
    files: list[str | bytes], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pack = tmp_path_factory.mktemp("pack")
    for i, content in enumerate(files):
        path = pack / f"file_{i}.toml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    try:
        kb = load_knowledge(pack)
    except KnowledgeError as err:
        problems = err.problems
    else:
        problems = ()
        profile = data.draw(profiles(kb), label="profile")
        routine = recommend(profile, knowledge=kb)
        assert audit(routine, profile, kb) == []
    assert all(p.file and p.message for p in problems)


def test_a_pack_that_is_valid_after_all_gives_routines(tmp_path: Path) -> None:
    (tmp_path / "new.toml").write_text(toml_document(BASES[-1]), encoding="utf-8")
    kb = load_knowledge(tmp_path)
    assert recommend(context="after_sitting", knowledge=kb).status == "ok"


# --- tampered routines ----------------------------------------------------------------


@st.composite
def tampered_routines(draw: st.DrawFn) -> tuple[Routine, Profile, bool]:
    """A real routine with a few fields swapped for values of the same field taken from
    another real routine (so every value has the right type): the routine, the profile it
    is audited against, and whether anything changed."""
    profile = draw(profiles(KB), label="profile")
    routine = recommend(profile)
    donor = recommend(draw(profiles(KB), label="donor profile"))
    changed = routine
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["routine", "step", "exclusion"]))
        if where == "routine":
            field = draw(st.sampled_from(sorted(Routine.model_fields)))
            changed = changed.model_copy(update={field: getattr(donor, field)})
        elif where == "step" and changed.steps and donor.steps:
            i = draw(st.integers(0, len(changed.steps) - 1))
            field = draw(st.sampled_from(sorted(Step.model_fields)))
            value = getattr(draw(st.sampled_from(donor.steps)), field)
            steps = list(changed.steps)
            steps[i] = steps[i].model_copy(update={field: value})
            changed = changed.model_copy(update={"steps": tuple(steps)})
        elif where == "exclusion" and changed.excluded and donor.excluded:
            i = draw(st.integers(0, len(changed.excluded) - 1))
            field = draw(st.sampled_from(sorted(Exclusion.model_fields)))
            value = getattr(draw(st.sampled_from(donor.excluded)), field)
            excluded = list(changed.excluded)
            excluded[i] = excluded[i].model_copy(update={field: value})
            changed = changed.model_copy(update={"excluded": tuple(excluded)})
    return changed, profile, changed != routine


@settings(
    max_examples=max(20, settings.default.max_examples // 2), suppress_health_check=REPEATABLE
)
@given(case=tampered_routines())
def test_the_audit_never_crashes_on_a_tampered_routine(case: tuple[Routine, Profile, bool]) -> None:
    """Whatever is swapped, the audit answers with violations (or none), never an error;
    an untouched routine passes."""
    routine, profile, changed = case
    found = audit(routine, profile, KB)
    assert all(isinstance(v, Violation) and v.rule in CHECKS and v.message for v in found)
    if not changed:
        assert found == []
