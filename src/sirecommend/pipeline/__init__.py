"""The recommendation pipeline, one pure function per stage.

``recommend()`` only chains them:
triage -> select -> filter -> substitute -> dose -> order -> fit -> explain.
Each stage only reads the frozen knowledge and its compiled form
(``sirecommend._compile``, built once at load) and returns new immutable values;
nothing is remembered between calls.
"""

from sirecommend.pipeline.dose import dose
from sirecommend.pipeline.explain import explain
from sirecommend.pipeline.filter import filter_candidates
from sirecommend.pipeline.fit import fit, fit_to_time
from sirecommend.pipeline.order import order_steps
from sirecommend.pipeline.select import select
from sirecommend.pipeline.substitute import substitute
from sirecommend.pipeline.triage import triage

__all__ = [
    "dose",
    "explain",
    "filter_candidates",
    "fit",
    "fit_to_time",
    "order_steps",
    "select",
    "substitute",
    "triage",
]
