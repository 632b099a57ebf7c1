"""thinc shim for the GLiNER torch model: device placement, the optimizer step, and serialization
as a GLiNER folder (not a pickle).

The model lives on the device of the thinc ops current when the shim is made (`spacy train
--gpu-id 0` and `spacy.require_gpu()` select a GPU before the pipeline is built), or the one given
to `to_device`; every checkpoint set later is moved there. `to_bytes` packs the files
`checkpoint.save_checkpoint` would write (config JSON, safetensors weights, tokenizer files) into
msgpack; `from_bytes` unpacks them and goes through the same strict loader as any GLiNER folder,
so a saved pipeline is self-contained and offline.
"""
import tempfile
from pathlib import Path
from typing import Dict, Optional

import srsly
import torch
from thinc.shims import PyTorchShim
from thinc.util import get_torch_default_device

from ..checkpoint import GlinerCheckpoint, load_checkpoint, write_folder
from .inference import check_inference, inference_copy
from ..training.optimizer import FusedAdam, optimizer_step


class GlinerShim(PyTorchShim):
    def __init__(self, checkpoint: Optional[GlinerCheckpoint] = None):
        super().__init__(checkpoint.model if checkpoint is not None else None)
        self.checkpoint = checkpoint
        self._target_device = get_torch_default_device()
        # The transformer learns at `encoder_lr_scale` x the optimizer's rate (the heads at 1x),
        # after the gradients are clipped to `max_grad_norm` as a whole; the component sets these.
        self.encoder_lr_scale = 1.0
        self.max_grad_norm = 0.0
        self._fused_adam: Optional[FusedAdam] = None
        self._runtime = "torch"
        self._precision = "fp32"
        self._fast_model: Optional[torch.nn.Module] = None

    @property
    def device(self) -> torch.device:
        return self._target_device

    @property
    def runtime(self) -> str:
        return self._runtime

    @property
    def precision(self) -> str:
        return self._precision

    def set_inference(self, runtime: str, precision: str) -> None:
        """How `predict` runs (`layers/inference.py`); the fp32 torch model stays what is trained and saved."""
        check_inference(runtime, precision, self._target_device)
        self._runtime, self._precision = runtime, precision
        self._fast_model = None

    def inference_model(self) -> torch.nn.Module:
        """The module `predict` runs: the model itself, or its fast copy (made once per weights)."""
        if (self._runtime, self._precision) == ("torch", "fp32"):
            return self._model
        if self._fast_model is None:
            self._fast_model = inference_copy(self._model, self._runtime, self._precision)
        return self._fast_model

    def set_checkpoint(self, checkpoint: GlinerCheckpoint) -> None:
        checkpoint.model.to(self._target_device)
        self.checkpoint = checkpoint
        self._model = checkpoint.model
        self._fused_adam = None
        self._fast_model = None

    def to_device(self, device_type: str, device_id: int) -> None:
        """thinc's `Model.to_gpu` / `to_cpu` (and a torch device type such as "meta" in tests)."""
        if device_type == "gpu":
            self._target_device = torch.device("cuda", device_id)
        elif device_type == "cpu":
            self._target_device = torch.device("cpu")
        else:
            self._target_device = torch.device(device_type, device_id) if device_id >= 0 else torch.device(device_type)
        check_inference(self._runtime, self._precision, self._target_device)
        self._fast_model = None
        if self._model is not None:
            self._model.to(self._target_device)
            self.checkpoint.model.clear_label_cache()
        self._fused_adam = None

    def predict(self, inputs):
        """As PyTorchShim.predict, minus flipping every module back to train mode after each batch."""
        if self._model.training:
            self._model.eval()
        with torch.inference_mode():
            return self.inference_model()(*inputs.args, **inputs.kwargs)

    def finish_update(self, optimizer) -> None:
        self._fused_adam = optimizer_step(
            self._model,
            optimizer,
            key=self.id,
            encoder_lr_scale=self.encoder_lr_scale,
            max_grad_norm=self.max_grad_norm,
            fused=self._fused_adam,
        )
        self.checkpoint.model.clear_label_cache()
        self._fast_model = None

    def to_bytes(self) -> bytes:
        files: Optional[Dict[str, bytes]] = None
        if self.checkpoint is not None:
            with tempfile.TemporaryDirectory() as tmp:
                write_folder(self.checkpoint, Path(tmp))
                files = {
                    str(p.relative_to(tmp)): p.read_bytes() for p in sorted(Path(tmp).rglob("*")) if p.is_file()
                }
        return srsly.msgpack_dumps({"gliner_folder": files})

    def from_bytes(self, bytes_data: bytes) -> "GlinerShim":
        files = srsly.msgpack_loads(bytes_data)["gliner_folder"]
        if files is None:  # saved before it had weights: keep any the component has loaded since
            return self
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in files.items():
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self.set_checkpoint(load_checkpoint(tmp))
        return self
