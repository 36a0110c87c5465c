"""The lean CLIPS peer: the selection task as a clipspy program with no Python fact wrappers.

Adapted from the shared peer benchmark (``peerbench/bench_clips.py``, ``query_nowrapper``):
the knowledge is asserted once as facts (warm working memory); per query one
deffunction asserts the profile inside CLIPS, the agenda runs, each selected stretch is
handed to a Python callback, and another deffunction retracts the profile (truth
maintenance retracts what it supported). No ``Fact`` wrapper is made per call, which is
the leanest clipspy path (``Template.assert_fact`` is slower and, in clipspy 1.0.6,
leaks a wrapper per fact). The task is the harness's selection task (see ``run.py``):
the stretches that suit the context, are not in an avoided position and need no
equipment the person lacks, sorted by the context's routine rank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CONSTRUCTS = (
    "(deftemplate stretch (slot id) (slot position) (multislot needs))",
    "(deftemplate link (slot stretch) (slot context) (slot rank (type INTEGER)))",
    "(deftemplate within (slot position) (slot key))",
    "(deftemplate profile (slot context) (multislot has) (multislot avoid))",
    "(deftemplate avoided (slot position))",
    """(deffunction has-one (?needs ?has)
         (foreach ?n ?needs (if (member$ ?n ?has) then (return TRUE)))
         FALSE)""",
    """(defrule avoided
         (logical (profile (avoid $? ?a $?)) (within (position ?p) (key ?a)))
         => (assert (avoided (position ?p))))""",
    """(defrule select
         (declare (salience -10))
         (profile (context ?c) (has $?has))
         (link (stretch ?s) (context ?c) (rank ?r))
         (stretch (id ?s) (position ?p) (needs $?needs))
         (not (avoided (position ?p)))
         (test (or (= (length$ ?needs) 0) (has-one ?needs ?has)))
         => (py-emit ?r ?s))""",
    """(deffunction assert-profile (?c ?has ?avoid)
         (assert (profile (context ?c) (has ?has) (avoid ?avoid)))
         TRUE)""",
    """(deffunction retract-profiles ()
         (do-for-all-facts ((?f profile)) TRUE (retract ?f))
         TRUE)""",
)


def build(
    stretches: dict[str, tuple[str, tuple[str, ...]]],
    within: Iterable[tuple[str, str]],
    links: Iterable[tuple[str, str, int]],
) -> tuple[Callable[[dict[str, Any]], list[str]], Callable[[], None]]:
    """``(select, close)`` over the selection facts (see ``run.SelectionFacts``)."""
    import clips

    out: list[tuple[int, str]] = []

    def py_emit(rank: int, stretch: Any) -> None:
        out.append((rank, str(stretch)))

    env = clips.Environment()
    env.define_function(py_emit, name="py-emit")
    for construct in CONSTRUCTS:
        env.build(construct)
    lines = [
        f"(stretch (id {sid}) (position {position}) (needs {' '.join(needs)}))"
        for sid, (position, needs) in stretches.items()
    ]
    lines += [f"(within (position {p}) (key {k}))" for p, k in within]
    lines += [f"(link (stretch {s}) (context {c}) (rank {r}))" for c, s, r in links]
    env.load_facts("\n".join(lines))
    sym = clips.Symbol

    def select(p: dict[str, Any]) -> list[str]:
        env.call(
            "assert-profile",
            sym(p["context"]),
            tuple(sym(k) for k in sorted(p.get("equipment", ()))),
            tuple(sym(a) for a in sorted(p.get("avoid_positions", ()))),
        )
        out.clear()
        env.run()
        env.call("retract-profiles")
        return [sid for _, sid in sorted(out)]

    def close() -> None:
        nonlocal env
        del env

    return select, close
