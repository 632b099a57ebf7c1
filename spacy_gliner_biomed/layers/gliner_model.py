"""The thinc Model around the GLiNER torch module: words + label prompts in, span logits out."""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import torch
from thinc.api import ArgsKwargs, Model

from ..errors import Errors, GlinerError
from .shim import GlinerShim


@dataclass
class GlinerInput:
    """Word windows and, per window, the label prompts to score them against."""

    windows: Sequence[Sequence[str]]
    prompts: Sequence[Tuple[str, ...]]


@dataclass
class GlinerOutput:
    """Span logits (on the model's device) and what says which of them exist."""

    logits: torch.Tensor  # (B, W, K, C)
    word_lengths: torch.Tensor  # (B,), on the CPU
    label_mask: torch.Tensor  # (B, C), on the model's device


def gliner_model(init_config: Dict[str, Any]) -> Model[GlinerInput, GlinerOutput]:
    """`init_config` says how `initialize` builds the model from backbones when no weights are loaded."""
    return Model(
        "gliner_biomed",
        forward,
        init=init,
        shims=[GlinerShim()],
        attrs={"init_config": init_config},
    )


def get_shim(model: Model) -> GlinerShim:
    return model.shims[0]


def init(model: Model, X: Optional[GlinerInput] = None, Y: Any = None) -> None:
    shim = get_shim(model)
    if shim.checkpoint is None:
        from ..backbones import new_checkpoint

        shim.set_checkpoint(new_checkpoint(**model.attrs["init_config"]))


def forward(model: Model, X: GlinerInput, is_train: bool) -> Tuple[GlinerOutput, Callable]:
    shim = get_shim(model)
    if shim.checkpoint is None:
        raise GlinerError(Errors.E021.format(name=model.name))
    batch = shim.checkpoint.featurizer.encode(X.windows, X.prompts).to(shim.device)
    logits, torch_backprop = shim(ArgsKwargs(args=(batch,), kwargs={}), is_train)

    def backprop(d_logits: torch.Tensor) -> GlinerInput:
        torch_backprop(ArgsKwargs(args=(logits,), kwargs={"grad_tensors": (d_logits,)}))
        return X

    return GlinerOutput(logits, batch.word_lengths, batch.label_mask), backprop
