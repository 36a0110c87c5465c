"""The recommendation pipeline, one pure function per stage.

``recommend()`` only chains them:
triage -> select -> filter -> substitute -> dose -> order -> fit -> explain.
Each stage reads the frozen knowledge and returns new immutable values.
"""

from sirecommend._kb import KnowledgeBase
from sirecommend.pipeline.dose import dose
from sirecommend.pipeline.explain import explain
from sirecommend.pipeline.filter import filter_candidates
from sirecommend.pipeline.fit import fit_to_time
from sirecommend.pipeline.order import order_steps
from sirecommend.pipeline.select import context_index, select
from sirecommend.pipeline.substitute import substitute
from sirecommend.pipeline.triage import triage

__all__ = [
    "dose",
    "explain",
    "filter_candidates",
    "fit_to_time",
    "order_steps",
    "prepare",
    "select",
    "substitute",
    "triage",
]


def prepare(kb: KnowledgeBase) -> None:
    """Build, at load, the indexes every recommendation reads.

    Per context, the graph walk, its candidates, and its stretches grouped by
    position and equipment options (:class:`~sirecommend.pipeline.select.ContextIndex`).
    They are kept in the knowledge base (and in its on-disk cache), so no call walks
    the graph.
    """
    for context in kb.contexts:
        context_index(kb, context)
