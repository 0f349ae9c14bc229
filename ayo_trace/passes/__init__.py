"""Graph passes: each is ``Graph -> PassResult(graph, changed)``, one per file, plus the cost model.

``DEFAULT_PASSES`` is the pipeline of docs/ir-conventions.md, in order; an empty list is the
unoptimized baseline. ``run_passes`` never changes its input and lints after every pass.
"""

from .cost import DEFAULT_PROFILES, EngineProfile, Estimates, Profiles, annotate, critical_path
from .decompose_stages import DecomposeStages
from .lower import Lower
from .manager import Pass, PassResult, apply_pass, explain, run_passes
from .pipeline_decode import PipelineDecode
from .prune_dependencies import PruneDependencies
from .split_prefill import SplitPrefill

DEFAULT_PASSES: tuple[Pass, ...] = (
    Lower(),
    PruneDependencies(),
    DecomposeStages(),
    SplitPrefill(),
    PipelineDecode(),
)

PASS_NAMES: tuple[str, ...] = tuple(p.name for p in DEFAULT_PASSES)

__all__ = [
    "DEFAULT_PASSES",
    "DEFAULT_PROFILES",
    "PASS_NAMES",
    "DecomposeStages",
    "EngineProfile",
    "Estimates",
    "Lower",
    "Pass",
    "PassResult",
    "PipelineDecode",
    "Profiles",
    "PruneDependencies",
    "SplitPrefill",
    "annotate",
    "apply_pass",
    "critical_path",
    "explain",
    "run_passes",
]
