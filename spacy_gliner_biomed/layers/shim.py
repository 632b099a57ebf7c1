"""thinc shim for the GLiNER torch model: serializes it as a GLiNER folder, not as a pickle.

`to_bytes` packs the files `checkpoint.save_checkpoint` would write (config JSON, safetensors
weights, tokenizer files) into msgpack; `from_bytes` unpacks them and goes through the same strict
loader as any GLiNER folder. A saved pipeline is therefore self-contained and offline.
"""
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import srsly
import torch
from thinc.api import Optimizer, torch2xp, xp2torch
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
        self._fused_adam: Optional["FusedAdam"] = None

    def set_checkpoint(self, checkpoint: GlinerCheckpoint) -> None:
        self.checkpoint = checkpoint
        self._model = checkpoint.model
        self._fused_adam = None

    def predict(self, inputs):
        """As PyTorchShim.predict, minus flipping every module back to train mode after each batch."""
        if self._model.training:
            self._model.eval()
        with torch.inference_mode():
            return self._model(*inputs.args, **inputs.kwargs)

    def finish_update(self, optimizer) -> None:
        """One optimizer step: global-norm clipping, then spaCy's optimizer, with a smaller learning
        rate for the encoder(s) (`token_rep_layer.*`, as the reference splits them)."""
        params = [(name, p) for name, p in self._model.named_parameters() if p.grad is not None]
        if self.max_grad_norm > 0 and params:
            torch.nn.utils.clip_grad_norm_([p for _, p in params], self.max_grad_norm)
        if params and FusedAdam.supports(optimizer):
            if self._fused_adam is None or self._fused_adam.optimizer is not optimizer:
                self._fused_adam = FusedAdam(optimizer)
            for scale, group in _lr_groups(params, self.encoder_lr_scale):
                self._fused_adam.step(group, lr_scale=scale)
        else:
            for name, param in params:
                scale = self.encoder_lr_scale if name.startswith(ENCODER_PREFIX) else 1.0
                data, _ = optimizer((self.id, name), torch2xp(param.data), torch2xp(param.grad), lr_scale=scale)
                with torch.no_grad():  # in place: rebinding `param.data` leaked the old storage every step
                    param.copy_(xp2torch(data, device=param.device))
        for _, param in params:
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


def _lr_groups(params: List[Tuple[str, torch.nn.Parameter]], encoder_lr_scale: float):
    encoder = [p for name, p in params if name.startswith(ENCODER_PREFIX)]
    heads = [p for name, p in params if not name.startswith(ENCODER_PREFIX)]
    return [(scale, group) for scale, group in ((encoder_lr_scale, encoder), (1.0, heads)) if group]


class FusedAdam:
    """thinc's Adam update, run by torch over all parameters at once (`torch._foreach_*`).

    Same arithmetic as `thinc.optimizers.Optimizer` with Adam (per-parameter step counts, bias
    correction folded into the step size, eps added to the root of the second moment, decoupled
    weight decay `L2` when `L2_is_weight_decay`), with the hyperparameters and schedules read from
    spaCy's optimizer at every step. thinc's loop goes parameter by parameter through NumPy on one
    thread; this runs on torch's thread pool, in place, without conversions. The
    moments live here, one set per optimizer object (a new optimizer starts fresh, as in thinc).
    Features it does not cover (RAdam, SGD, averaging, `grad_clip`) go through thinc instead.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.mom1: Dict[int, torch.Tensor] = {}
        self.mom2: Dict[int, torch.Tensor] = {}
        self.nr_update: Dict[int, int] = {}

    @staticmethod
    def supports(optimizer) -> bool:
        return (
            isinstance(optimizer, Optimizer)
            and not optimizer.use_radam
            and optimizer.b1 > 0.0
            and optimizer.b2 > 0.0
            and optimizer.averages is None
            and not optimizer.grad_clip
        )

    @torch.no_grad()
    def step(self, params: List[torch.nn.Parameter], lr_scale: float) -> None:
        opt = self.optimizer
        data = [p.data for p in params]
        grads = [p.grad for p in params]
        if opt.L2 != 0 and not opt.L2_is_weight_decay:
            grads = torch._foreach_add(grads, data, alpha=opt.L2)
        mom1 = [self.mom1.setdefault(id(p), torch.zeros_like(p)) for p in params]
        mom2 = [self.mom2.setdefault(id(p), torch.zeros_like(p)) for p in params]
        counts = [self.nr_update.get(id(p), 0) + 1 for p in params]
        self.nr_update.update((id(p), n) for p, n in zip(params, counts))
        b1, b2 = opt.b1, opt.b2
        torch._foreach_mul_(mom1, b1)
        torch._foreach_add_(mom1, grads, alpha=1 - b1)
        torch._foreach_mul_(mom2, b2)
        torch._foreach_addcmul_(mom2, grads, grads, value=1 - b2)
        denom = torch._foreach_sqrt(mom2)
        torch._foreach_add_(denom, opt.eps)
        steps = [-opt.learn_rate * (1 - b2**n) ** 0.5 / (1 - b1**n) * lr_scale for n in counts]
        torch._foreach_addcdiv_(data, mom1, denom, steps)
        if opt.L2 != 0 and opt.L2_is_weight_decay:
            torch._foreach_mul_(data, 1 - lr_scale * opt.learn_rate * opt.L2)
