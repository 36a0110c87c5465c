"""A person whose SI joint is stirred up today, who has only a towel and twelve minutes.

Run: python examples/aggravated_with_towel.py
"""

from sirecommend import Profile, recommend

profile = Profile(context="after_sleep", aggravated=True, equipment={"towel"}, minutes=12)
routine = recommend(profile)

for number, step in enumerate(routine.steps, 1):
    sides = " each side" if step.per_side else ""
    kit = step.equipment_name or "no equipment"
    print(
        f"{number}. {step.name} ({kit}): {step.hold_seconds} s x {step.sets}{sides}, "
        f"{step.range_of_motion} range"
    )
print(f"Total: about {routine.total_seconds // 60} min {routine.total_seconds % 60} s")
print("Left out:")
for exclusion in routine.excluded:
    print(f"  {exclusion.name}: {' '.join(str(r) for r in exclusion.reasons)}")
