"""`[components.gliner_biomed.training]`: loss, label sampling and optimizer details, parsed once."""
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Optional, Sequence

from ..errors import Errors, GlinerError
from ..keys import DATASET_DOMAINS


@dataclass(frozen=True)
class TrainingSettings:
    max_types: int = 25  # most labels in one example's prompt (cut after shuffling, as the reference does)
    max_neg_type_ratio: int = 1  # an example gets randint(0, ratio) * n_entities negative types
    # where an example without explicit negatives gets its negative types: "batch" (the reference:
    # the other examples' gold types) or "inventory" (every label the component knows, as many as
    # randint(0, max_types - n_gold_types)), so training sees prompts as long as users write
    neg_types_from: str = "batch"
    # with "inventory": uni-encoder gold examples of these dataset domains ("general",
    # "biomedical"; see corpora/datasets.py) also draw negatives from the teacher's types (those only synthetic docs
    # have). News or film text has no proteins or cell lines, so there a biomedical type is a true
    # negative; without it the model learns that teacher types fit any text and prompts with
    # biomedical types beside general ones collapse. Biomedical gold text is left out by default:
    # it has many unannotated mentions of the teacher's types
    teacher_negatives_for: Sequence[str] = ()
    # share of the cells of unannotated spans of teacher-annotated (synthetic) docs that count as
    # negatives, drawn afresh each step: a teacher's recall is partial, and every mention it
    # missed would otherwise be learned as "not an entity" (negative sampling for the
    # unlabeled-entity problem, Li et al. 2021). Annotated spans keep all their cells (their
    # other types teach the types apart); gold docs keep every negative
    synthetic_negative_rate: float = 1.0
    focal_alpha: float = 0.75  # weight of positives in the BCE; < 0 turns it off
    focal_gamma: float = 0.0  # focal-loss exponent; 0 is plain BCE
    loss_reduction: str = "sum"  # "sum" (the reference default) or "mean" over unmasked span x label cells
    encoder_lr_scale: float = 0.5  # the transformer learns at this fraction of the optimizer's learn_rate
    max_grad_norm: float = 10.0  # global gradient-norm clip before the optimizer step; 0 turns it off

    @classmethod
    def from_cfg(cls, cfg: Optional[Dict[str, Any]]) -> "TrainingSettings":
        cfg = dict(cfg or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(cfg) - set(known))
        if unknown:
            raise GlinerError(Errors.E036.format(unknown=unknown, known=known))
        settings = cls(**cfg)
        rules = [
            ("max_types", settings.max_types >= 1, "an integer >= 1"),
            ("max_neg_type_ratio", settings.max_neg_type_ratio >= 0, "an integer >= 0"),
            ("loss_reduction", settings.loss_reduction in ("sum", "mean"), "'sum' or 'mean'"),
            ("neg_types_from", settings.neg_types_from in ("batch", "inventory"), "'batch' or 'inventory'"),
            ("teacher_negatives_for", isinstance(settings.teacher_negatives_for, (list, tuple))
             and set(settings.teacher_negatives_for) <= set(DATASET_DOMAINS), f"a list of {list(DATASET_DOMAINS)}"),
            ("encoder_lr_scale", settings.encoder_lr_scale >= 0, ">= 0"),
            ("max_grad_norm", settings.max_grad_norm >= 0, ">= 0"),
            ("focal_gamma", settings.focal_gamma >= 0, ">= 0"),
            ("synthetic_negative_rate", 0 < settings.synthetic_negative_rate <= 1, "in (0, 1]"),
        ]
        for name, ok, rule in rules:
            if not ok:
                raise GlinerError(Errors.E037.format(name=name, value=getattr(settings, name), rule=rule))
        return settings

    def to_cfg(self) -> Dict[str, Any]:
        return asdict(self)
