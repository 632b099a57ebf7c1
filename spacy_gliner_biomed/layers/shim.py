"""thinc shim for the GLiNER torch model: serializes it as a GLiNER folder, not as a pickle.

`to_bytes` packs the files `checkpoint.save_checkpoint` would write (config JSON, safetensors
weights, tokenizer files) into msgpack; `from_bytes` unpacks them and goes through the same strict
loader as any GLiNER folder. A saved pipeline is therefore self-contained and offline.
"""
import tempfile
from pathlib import Path
from typing import Dict, Optional

import srsly
import torch
from thinc.api import torch2xp, xp2torch
from thinc.shims import PyTorchShim

from ..checkpoint import GlinerCheckpoint, load_checkpoint, write_folder

ENCODER_PREFIX = "token_rep_layer."


class GlinerShim(PyTorchShim):
    def __init__(self, checkpoint: Optional[GlinerCheckpoint] = None):
        super().__init__(checkpoint.model if checkpoint is not None else None)
        self.checkpoint = checkpoint
        # The transformer learns at `encoder_lr_scale` x the optimizer's rate (the heads at 1x),
        # after the gradients are clipped to `max_grad_norm` as a whole; the component sets these.
        self.encoder_lr_scale = 1.0
        self.max_grad_norm = 0.0

    def set_checkpoint(self, checkpoint: GlinerCheckpoint) -> None:
        self.checkpoint = checkpoint
        self._model = checkpoint.model

    def predict(self, inputs):
        """As PyTorchShim.predict, minus flipping every module back to train mode after each batch."""
        if self._model.training:
            self._model.eval()
        with torch.inference_mode():
            return self._model(*inputs.args, **inputs.kwargs)

    def finish_update(self, optimizer) -> None:
        """One optimizer step: global-norm clipping, then spaCy's optimizer per parameter, with a
        smaller learning rate for the encoder(s) (`token_rep_layer.*`, as the reference splits them)."""
        params = [(name, p) for name, p in self._model.named_parameters() if p.grad is not None]
        if self.max_grad_norm > 0 and params:
            torch.nn.utils.clip_grad_norm_([p for _, p in params], self.max_grad_norm)
        for name, param in params:
            scale = self.encoder_lr_scale if name.startswith(ENCODER_PREFIX) else 1.0
            data, _ = optimizer((self.id, name), torch2xp(param.data), torch2xp(param.grad), lr_scale=scale)
            with torch.no_grad():  # in place: rebinding `param.data` leaked the old storage every step
                param.copy_(xp2torch(data, device=param.device))
            param.grad = None
        self.checkpoint.model.clear_label_cache()

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
        if files is None:
            self.checkpoint, self._model = None, None
            return self
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in files.items():
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self.set_checkpoint(load_checkpoint(tmp))
        return self
