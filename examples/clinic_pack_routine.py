"""Load the shipped knowledge plus a clinic's own pack, and recommend from both.

Run: python examples/clinic_pack_routine.py
"""

from pathlib import Path

from sirecommend import load_knowledge, recommend

pack = Path(__file__).resolve().parent / "clinic_pack"
knowledge = load_knowledge(pack)
routine = recommend(context="after_sitting", avoid_positions={"floor"}, knowledge=knowledge)

print(f"Knowledge: {knowledge!r}")
for step in routine.steps:
    print(f"- {step.name} [{', '.join(step.sources)}]")
