"""Inference precision: `fp32` (the default, exact parity with `gliner`) or `int8`.

`int8` is torch's dynamic quantisation (`torch.ao.quantization.quantize_dynamic`): the weights of
every `nn.Linear` of the encoder(s), their projections and the label FFN, and the word LSTM, are
stored as int8; activations are quantised on the fly per batch. The span head stays fp32: it
reads its weights as slices (the split-and-folded markerV0, `span_model.py`) and costs little
next to the encoder. Quantisation runs on a copy, made when the component first predicts, so
training, `to_bytes` and `export_gliner` always see the fp32 weights: a saved pipeline stores fp32
weights and its `precision` setting, and is quantised again, identically, when loaded. CPU only
(torch's dynamic quantised kernels are CPU kernels).
"""
import copy
import warnings

import torch
from torch import nn

from ..errors import Errors, GlinerError

PRECISIONS = ("fp32", "int8")


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise GlinerError(Errors.E191.format(precision=precision, known=list(PRECISIONS)))
    if precision == "int8" and device.type != "cpu":
        raise GlinerError(Errors.E192.format(device=device))


def quantize_int8(model: nn.Module) -> nn.Module:
    """An int8 copy of a `GlinerSpanModel` for inference (the original is left as it is)."""
    from torch.ao.quantization import quantize_dynamic

    quantized = copy.deepcopy(model).eval()
    quantized.clear_label_cache()
    with warnings.catch_warnings():
        # torch >= 2.10 marks torch.ao's eager quantisation deprecated in favour of torchao (an
        # extra dependency); it is still torch's supported CPU int8 path, and measured here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantize_dynamic(quantized.token_rep_layer, {nn.Linear}, dtype=torch.qint8, inplace=True)
        quantize_dynamic(quantized.prompt_rep_layer, {nn.Linear}, dtype=torch.qint8, inplace=True)
        if hasattr(quantized, "rnn"):
            quantize_dynamic(quantized.rnn, {nn.LSTM}, dtype=torch.qint8, inplace=True)
    return quantized
