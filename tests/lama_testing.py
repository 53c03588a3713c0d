"""Shared helpers for the LaMa tests: tiny seeded generators with non-trivial BatchNorm state."""

from __future__ import annotations

import torch
from torch import nn

from imgtrans.models.lama import LamaConfig, LamaGenerator, build_lama

TINY = LamaConfig(ngf=8, n_downsampling=3, n_blocks=2)


def tiny_lama(seed: int = 0, config: LamaConfig = TINY) -> LamaGenerator:
    """A tiny generator in eval mode whose BatchNorm layers are not identities."""
    torch.manual_seed(seed)
    model = build_lama(config)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                module.bias.copy_(torch.randn(n, generator=gen) * 0.1)
                module.num_batches_tracked.fill_(int(torch.randint(1, 999, (1,), generator=gen)))
    return model.eval()
