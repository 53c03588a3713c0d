"""Batched LaMa inpainting of masked regions across many pages.

Each region (a box around masked pixels) is cropped with a margin of context, shrunk if its
long side exceeds the largest bucket, padded (bottom/right, mirror padding) to a
bucket-dependent shape, and run through the generator together with every other crop of
the same shape from any page. Predictions are resized back and pasted over masked pixels
only, with a short feather inside the mask; pixels outside the mask are never written.

A crop's padded shape depends only on its own size, so its result does not depend on which
other crops share its batch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import torch

from imgtrans.models.lama_crops import BUCKETS, CropPlan, LamaCrop, feather_alpha, padded_shape
from imgtrans.page import BBox

if TYPE_CHECKING:
    from torch import nn

__all__ = ["BUCKETS", "CropPlan", "LamaCrop", "LamaInpainter", "feather_alpha", "padded_shape"]


class LamaInpainter:
    """Runs a LaMa generator over many masked regions of many pages in shared batches.

    ``model``: a :class:`~imgtrans.models.lama.LamaGenerator` (or any module with the same
    ``(image N3HW RGB [0,1], mask N1HW {0,1}) -> N3HW [0,1]`` contract). Weights stay fp32; on
    CUDA the forward runs under bfloat16 autocast (the FFTs inside stay fp32), on CPU in fp32.
    """

    def __init__(
        self,
        model: nn.Module,
        device: torch.device,
        compile: bool = False,
        batch_size: int = 8,
        margin_ratio: float = 0.5,
        min_margin: int = 32,
        feather: int = 2,
        buckets: tuple[int, ...] = BUCKETS,
        bf16: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.device = torch.device(device)
        self.model = model.to(device=self.device, dtype=torch.float32).eval()
        self.compiled = compile
        self._forward = torch.compile(self.model, dynamic=False) if compile else self.model
        self.batch_size = batch_size
        self.geometry = CropPlan(margin_ratio, min_margin, feather, tuple(sorted(buckets)))
        # bfloat16 autocast: default on CUDA (fp16 darkens LaMa's output), never on CPU.
        self.bf16 = self.device.type == "cuda" if bf16 is None else bf16

    @classmethod
    def load(cls, device: torch.device, compile: bool = False) -> LamaInpainter:
        """With the verified default weights; MissingModelError names the fetch command."""
        from imgtrans.models.weights import load_lama

        return cls(load_lama(device), device, compile=compile)

    def inpaint(
        self, images: list[np.ndarray], masks: list[np.ndarray], regions: list[list[BBox]]
    ) -> list[np.ndarray]:
        """Fill the masked pixels inside ``regions`` of each page.

        ``images`` RGB uint8 HxWx3, ``masks`` uint8 HxW (non-zero = fill), ``regions`` per
        page. Returns new arrays; pixels outside the mask (or outside every region) are
        bit-identical to the input. Inputs are not modified.
        """
        if not len(images) == len(masks) == len(regions):
            raise ValueError("images, masks and regions must have the same length")
        for image, mask in zip(images, masks, strict=True):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"images must be uint8 HxWx3, got {image.dtype} {image.shape}")
            if mask.shape != image.shape[:2]:
                raise ValueError(f"mask {mask.shape} does not match image {image.shape[:2]}")
        geometry = self.geometry
        crops = geometry.plan(images, masks, regions)
        inputs = [geometry.inputs(images[c.page], masks[c.page], c) for c in crops]
        preds = self.generate(crops, inputs)
        out = [image.copy() for image in images]
        for crop, pred in zip(crops, preds, strict=True):
            geometry.paste(out[crop.page], masks[crop.page], crop, pred)
        return out

    def generate(
        self, crops: list[LamaCrop], inputs: list[tuple[np.ndarray, np.ndarray]]
    ) -> list[np.ndarray]:
        """The generator over prepared crops (``inputs``: :meth:`CropPlan.inputs` of each),
        batched by padded shape: float32 h x w x 3 predictions in [0, 1], crop order."""
        by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, crop in enumerate(crops):
            by_shape[crop.shape].append(i)
        preds: list[np.ndarray | None] = [None] * len(crops)
        for indices in by_shape.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                images = np.stack([inputs[i][0] for i in chunk])
                batch = self._run(images, np.stack([inputs[i][1] for i in chunk]))
                for i, pred in zip(chunk, batch, strict=True):
                    h, w = crops[i].size
                    preds[i] = pred[:h, :w]
        return [p for p in preds if p is not None]

    def _run(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """``images`` uint8 NxHxWx3, ``masks`` uint8 NxHxW -> float32 NxHxWx3 in [0, 1]."""
        n = images.shape[0]
        if self.compiled and n < self.batch_size:  # keep one batch shape per bucket shape
            reps = self.batch_size - n
            images = np.concatenate([images, np.repeat(images[-1:], reps, axis=0)])
            masks = np.concatenate([masks, np.repeat(masks[-1:], reps, axis=0)])
        cuda = self.device.type == "cuda"
        with torch.inference_mode():
            img = torch.from_numpy(images).to(self.device, non_blocking=cuda)
            msk = torch.from_numpy(masks).to(self.device, non_blocking=cuda)
            img = img.permute(0, 3, 1, 2).float().div_(255.0).contiguous()
            msk = (msk > 0).unsqueeze(1).float()
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                pred = self._forward(img, msk)
            pred = pred.float().clamp_(0.0, 1.0).permute(0, 2, 3, 1)[:n]
            result: np.ndarray = pred.cpu().numpy()
            return result
