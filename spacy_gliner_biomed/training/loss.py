"""The GLiNER loss over span x label cells, as the reference computes it."""
from typing import Tuple

import torch

from .settings import TrainingSettings

LOG_EPS = 1e-6  # the reference clamps probabilities at this before taking logs


def cell_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy per span x label cell, log-probabilities clamped at `LOG_EPS`."""
    p = torch.sigmoid(logits)
    return -(targets * torch.log(p.clamp(min=LOG_EPS)) + (1 - targets) * torch.log((1 - p).clamp(min=LOG_EPS)))


def focal_bce_loss(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, settings: TrainingSettings
) -> Tuple[float, torch.Tensor]:
    """The GLiNER loss, as the reference's `focal_loss_with_logits` computes it: binary cross-entropy
    per span x label cell with log-probabilities clamped at `LOG_EPS` (so one badly wrong cell costs
    at most -log(1e-6), as in the reference), times (1 - p_t)^gamma when gamma > 0, times alpha_t
    when alpha >= 0; masked cells count for nothing. Returns the loss and d(loss)/d(logits)."""
    x = logits.detach().float().requires_grad_(True)
    loss = cell_bce(x, targets)
    if settings.focal_gamma > 0:
        p = torch.sigmoid(x)
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = loss * (1 - p_t) ** settings.focal_gamma
    if settings.focal_alpha >= 0:
        loss = loss * (settings.focal_alpha * targets + (1 - settings.focal_alpha) * (1 - targets))
    loss = loss * mask
    total = loss.sum()
    if settings.loss_reduction == "mean":
        total = total / mask.sum().clamp(min=1)
    total.backward()
    return float(total.detach()), x.grad.to(logits.dtype)
