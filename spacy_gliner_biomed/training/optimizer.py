"""The optimizer step for the GLiNER torch model, with spaCy's optimizer.

Global gradient-norm clipping, then the update, with the encoder(s) (`token_rep_layer.*`, as the
reference splits them) at `encoder_lr_scale` x the heads' learning rate. With thinc's Adam (the
shipped configs) the update runs in torch over all parameters at once (`FusedAdam`); any other
optimizer goes through thinc parameter by parameter.
"""
from typing import Dict, List, Optional, Tuple

import torch
from thinc.api import Optimizer, torch2xp, xp2torch

ENCODER_PREFIX = "token_rep_layer."


def optimizer_step(
    model: torch.nn.Module,
    optimizer,
    *,
    key: int,
    encoder_lr_scale: float,
    max_grad_norm: float,
    fused: Optional["FusedAdam"],
) -> Optional["FusedAdam"]:
    """Apply one step to the parameters that have gradients, then clear them. `key` tells this
    model's parameters apart in thinc's optimizer; returns the FusedAdam state to keep for the
    next step (a new optimizer object starts a new one, as in thinc)."""
    params = [(name, p) for name, p in model.named_parameters() if p.grad is not None]
    if max_grad_norm > 0 and params:
        torch.nn.utils.clip_grad_norm_([p for _, p in params], max_grad_norm)
    if params and FusedAdam.supports(optimizer):
        if fused is None or fused.optimizer is not optimizer:
            fused = FusedAdam(optimizer)
        for scale, group in _lr_groups(params, encoder_lr_scale):
            fused.step(group, lr_scale=scale)
    else:
        for name, param in params:
            scale = encoder_lr_scale if name.startswith(ENCODER_PREFIX) else 1.0
            data, _ = optimizer((key, name), torch2xp(param.data), torch2xp(param.grad), lr_scale=scale)
            with torch.no_grad():  # in place: rebinding `param.data` leaked the old storage every step
                param.copy_(xp2torch(data, device=param.device))
    for _, param in params:
        param.grad = None
    return fused


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
