"""The default routine for after sitting: no equipment, not aggravated.

Run: python examples/default_routine.py
"""

from sirecommend import recommend

routine = recommend(context="after_sitting")
print(routine)
