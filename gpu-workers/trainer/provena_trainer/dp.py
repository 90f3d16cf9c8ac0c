"""DP-SGD gradient: per-sample gradients (torch.func: functional_call + vmap + grad), per-sample clipping to
max_grad_norm, summed, plus Gaussian noise of standard deviation noise_multiplier * max_grad_norm, divided by the
expected batch size (Opacus's convention, so Poisson batches of varying size get the same noise scale)."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def per_sample_grads(model: nn.Module, loss_fn: LossFn, inputs: tuple[torch.Tensor, ...],
                     y: torch.Tensor) -> dict[str, torch.Tensor]:
    """{parameter name: tensor of shape (batch, *parameter shape)}, the gradient of each sample's loss."""
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def sample_loss(p: dict[str, torch.Tensor], *xs_y: torch.Tensor) -> torch.Tensor:
        *xs, t = xs_y
        out = functional_call(model, (p, buffers), tuple(x.unsqueeze(0) for x in xs))
        return loss_fn(out, t.unsqueeze(0))

    in_dims = (None,) + (0,) * (len(inputs) + 1)
    return vmap(grad(sample_loss), in_dims=in_dims, randomness="different")(params, *inputs, y)


def clip_factors(grads: dict[str, torch.Tensor], max_grad_norm: float) -> torch.Tensor:
    """min(1, C / ||g_i||) per sample, the norm taken over all parameters together."""
    sq = torch.stack([g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in grads.values()]).sum(dim=0)
    return (max_grad_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)


def clip_per_sample(grads: dict[str, torch.Tensor], max_grad_norm: float) -> dict[str, torch.Tensor]:
    """Each sample's gradient scaled to a norm of at most max_grad_norm (used by tests; the step fuses it)."""
    f = clip_factors(grads, max_grad_norm)
    return {k: g * f.view(-1, *([1] * (g.dim() - 1))) for k, g in grads.items()}


def dp_gradient_step(model: nn.Module, loss_fn: LossFn, inputs: tuple[torch.Tensor, ...], y: torch.Tensor, *,
                     noise_multiplier: float, max_grad_norm: float, expected_batch_size: int,
                     noise_generator: torch.Generator) -> None:
    """Sets each parameter's .grad to the noisy clipped mean gradient of the batch (possibly empty under Poisson)."""
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    if y.shape[0] > 0:
        grads = per_sample_grads(model, loss_fn, inputs, y)
        f = clip_factors(grads, max_grad_norm)
        summed = {k: torch.einsum("i,i...->...", f, g) for k, g in grads.items()}
    else:
        summed = {k: torch.zeros_like(p) for k, p in named}
    std = noise_multiplier * max_grad_norm
    for k, p in named:
        noise = torch.normal(0.0, std, size=p.shape, generator=noise_generator, device=p.device, dtype=p.dtype)
        p.grad = (summed[k] + noise) / expected_batch_size
