"""Order: sort the dosed steps into the context's one precedence order.

The order itself (phases, position blocks, ordering constraints, tie-breaks) is
computed once at load by :func:`sirecommend._compile.precedence_order`; a call only
sorts by it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sirecommend._compile import ContextPlan
from sirecommend.pipeline._types import Dosed

__all__ = ["order_steps"]


def order_steps(steps: Iterable[Dosed], plan: ContextPlan) -> tuple[Dosed, ...]:
    """``steps`` in the plan's routine order, by the rank of the stretch each step does."""
    rank = plan.rank
    return tuple(sorted(steps, key=lambda d: rank[d.pick.verdict.stretch.id]))
