"""How `predict` runs the model: `runtime` (torch or ONNX Runtime) x `precision` (fp32 or int8).

- `torch` + `fp32` (the default) is the model itself: exact parity with `gliner`.
- `onnxruntime`: the encoder(s) are exported to ONNX (in memory, at the first prediction) and run
  by an ONNX Runtime CPU session with its graph optimisations (fused attention, layer norm,
  GELU); the word LSTM and the span head stay in torch. fp32 outputs match torch to ~1e-5.
- `int8`: dynamic int8 quantisation: with torch, `torch.ao.quantization.quantize_dynamic` of every
  `nn.Linear` of the encoder(s); with ONNX Runtime, `onnxruntime.quantization.quantize_dynamic`
  (per channel) of the exported encoder. Both also quantise (torch) the label FFN, the LSTM and
  the span head's per-word FFNs (`project_start`, `project_end`: a third of the encoder's work per
  word). The span head's `out_project` stays fp32: it reads its weights as slices (the
  split-and-folded markerV0, `span_model.py`).

Every fast path runs on a copy made at the first prediction (and again after the weights
change), so training, `to_bytes` and `export_gliner` always see the fp32 torch weights: a saved
pipeline stores those and its settings, and builds the same copy again when loaded. CPU only.
The measured speed and F1 cost of each path are in the README.
"""
import copy
import io
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import Errors, GlinerError
from .span_model import Backbone

RUNTIMES = ("torch", "onnxruntime")
PRECISIONS = ("fp32", "int8")


def check_inference(runtime: str, precision: str, device: torch.device) -> None:
    if runtime not in RUNTIMES:
        raise GlinerError(Errors.E193.format(runtime=runtime, known=list(RUNTIMES)))
    if precision not in PRECISIONS:
        raise GlinerError(Errors.E191.format(precision=precision, known=list(PRECISIONS)))
    if (runtime, precision) != ("torch", "fp32") and device.type != "cpu":
        raise GlinerError(Errors.E192.format(runtime=runtime, precision=precision, device=device))
    if runtime == "onnxruntime":
        try:
            import onnx  # noqa: F401  (torch's exporter writes through it)
            import onnxruntime  # noqa: F401
        except ImportError as err:
            raise GlinerError(Errors.E194.format(err=err)) from None


def inference_copy(model: nn.Module, runtime: str, precision: str) -> nn.Module:
    """A copy of a `GlinerSpanModel` that runs the given way (the original is left as it is)."""
    fast = copy.deepcopy(model).eval()
    fast.clear_label_cache()
    with warnings.catch_warnings():
        # torch.ao's eager quantisation and the TorchScript ONNX exporter are marked deprecated in
        # torch >= 2.10 (in favour of torchao and the dynamo exporter, more dependencies); both are
        # still shipped and measured here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        if runtime == "onnxruntime":
            encoder = fast.token_rep_layer
            encoder.bert_layer = OrtBackbone(encoder.bert_layer.model, precision)
            if hasattr(encoder, "labels_encoder"):
                encoder.labels_encoder = OrtBackbone(encoder.labels_encoder.model, precision)
        elif precision == "int8":
            from torch.ao.quantization import quantize_dynamic

            quantize_dynamic(fast.token_rep_layer, {nn.Linear}, dtype=torch.qint8, inplace=True)
        if precision == "int8":
            from torch.ao.quantization import quantize_dynamic

            quantize_dynamic(fast.prompt_rep_layer, {nn.Linear}, dtype=torch.qint8, inplace=True)
            head = fast.span_rep_layer.span_rep_layer
            quantize_dynamic(head.project_start, {nn.Linear}, dtype=torch.qint8, inplace=True)
            quantize_dynamic(head.project_end, {nn.Linear}, dtype=torch.qint8, inplace=True)
            if hasattr(fast, "rnn"):
                quantize_dynamic(fast.rnn, {nn.LSTM}, dtype=torch.qint8, inplace=True)
    return fast


class OrtBackbone(nn.Module):
    """Stands in for `span_model.Backbone`: the same call, answered by an ONNX Runtime session."""

    def __init__(self, hf_model: nn.Module, precision: str):
        super().__init__()
        import onnxruntime as ort

        model_bytes = export_encoder(hf_model)
        if precision == "int8":
            model_bytes = _quantize_onnx(model_bytes)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # ORT's threads spin after each run by default, taking the cores from the torch ops that
        # follow (the LSTM, the span head): measured slower end to end on 2 cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        feeds = {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy()}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def export_encoder(hf_model: nn.Module) -> bytes:
    """The Hugging Face encoder as ONNX (opset 17), batch and length dynamic."""
    hf_model = copy.deepcopy(hf_model).eval()
    example = torch.ones(2, 8, dtype=torch.long)
    buffer = io.BytesIO()
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Backbone(hf_model), (example, example), buffer, input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        )
    return buffer.getvalue()


def _quantize_onnx(model_bytes: bytes) -> bytes:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(model_bytes)
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
        return target.read_bytes()
