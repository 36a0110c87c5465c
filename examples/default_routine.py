"""The default routine for after sitting: no equipment, not aggravated, a break of about
10 minutes (the context's default when no time is given).

Run: python examples/default_routine.py
"""

from sirecommend import recommend

routine = recommend(context="after_sitting")
print(routine)
