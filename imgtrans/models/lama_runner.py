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

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from imgtrans.page import BBox

if TYPE_CHECKING:
    from torch import nn

BUCKETS = (256, 512, 1024)


@dataclass(frozen=True)
class _Crop:
    page: int
    box: BBox  # crop in page pixels: the region grown by the margin
    paste: BBox  # the region: only its masked pixels are written
    size: tuple[int, int]  # (h, w) after resizing, before padding
    shape: tuple[int, int]  # (H, W) model input after padding


def padded_shape(h: int, w: int, buckets: tuple[int, ...] = BUCKETS) -> tuple[int, int]:
    """Model input shape for a crop of ``h x w`` (already no larger than ``buckets[-1]``).

    The bucket is the smallest one that holds the long side; each side is rounded up to a
    quarter of the bucket, so a bucket holds at most 16 shapes and everything is a
    multiple of 8.
    """
    long_side = max(h, w)
    bucket = next((b for b in buckets if b >= long_side), buckets[-1])
    step = max(8, bucket // 4)
    return math.ceil(h / step) * step, math.ceil(w / step) * step


def feather_alpha(mask: np.ndarray, feather: int) -> np.ndarray:
    """Blend weight for pasting: 0 outside the mask, rising to 1 within ``feather`` px inside.

    ``mask`` bool HxW; returns float32 HxW in [0, 1].
    """
    if feather <= 0:
        return mask.astype(np.float32)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(dist / (feather + 1), 0.0, 1.0).astype(np.float32)


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
        self.margin_ratio, self.min_margin = margin_ratio, min_margin
        self.feather = feather
        self.buckets = tuple(sorted(buckets))
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
        crops = self._plan(images, masks, regions)
        preds = self._predict(images, masks, crops)
        out = [image.copy() for image in images]
        for crop, pred in zip(crops, preds, strict=True):
            self._paste(out[crop.page], masks[crop.page], crop, pred)
        return out

    def _plan(
        self, images: list[np.ndarray], masks: list[np.ndarray], regions: list[list[BBox]]
    ) -> list[_Crop]:
        crops: list[_Crop] = []
        for page, (image, mask, boxes) in enumerate(zip(images, masks, regions, strict=True)):
            h, w = image.shape[:2]
            for region in boxes:
                paste = BBox(
                    max(0, region.x0), max(0, region.y0), min(w, region.x1), min(h, region.y1)
                )
                if paste.width <= 0 or paste.height <= 0:
                    continue
                if not mask[paste.y0 : paste.y1, paste.x0 : paste.x1].any():
                    continue
                margin = max(
                    self.min_margin, int(self.margin_ratio * max(paste.width, paste.height))
                )
                box = paste.grow(margin, w, h)
                scale = min(1.0, self.buckets[-1] / max(box.width, box.height))
                size = (max(1, round(box.height * scale)), max(1, round(box.width * scale)))
                crops.append(_Crop(page, box, paste, size, padded_shape(*size, self.buckets)))
        return crops

    def _inputs(self, image: np.ndarray, mask: np.ndarray, crop: _Crop) -> tuple[np.ndarray, ...]:
        b = crop.box
        img: np.ndarray = image[b.y0 : b.y1, b.x0 : b.x1]
        msk: np.ndarray = np.where(mask[b.y0 : b.y1, b.x0 : b.x1] > 0, 255, 0).astype(np.uint8)
        h, w = crop.size
        if (h, w) != img.shape[:2]:
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
            msk = cv2.resize(msk, (w, h), interpolation=cv2.INTER_AREA)
        pad = ((0, crop.shape[0] - h), (0, crop.shape[1] - w))
        img = np.pad(img, (*pad, (0, 0)), mode="symmetric")
        msk = np.pad(msk, pad, mode="symmetric")
        return img, msk

    def _predict(
        self, images: list[np.ndarray], masks: list[np.ndarray], crops: list[_Crop]
    ) -> list[np.ndarray]:
        by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, crop in enumerate(crops):
            by_shape[crop.shape].append(i)
        preds: list[np.ndarray | None] = [None] * len(crops)
        for indices in by_shape.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                pairs = [
                    self._inputs(images[crops[i].page], masks[crops[i].page], crops[i])
                    for i in chunk
                ]
                batch = self._run(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]))
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

    def _paste(self, out: np.ndarray, mask: np.ndarray, crop: _Crop, pred: np.ndarray) -> None:
        b, p = crop.box, crop.paste
        if pred.shape[:2] != (b.height, b.width):
            pred = cv2.resize(pred, (b.width, b.height), interpolation=cv2.INTER_LINEAR)
        # Only the region's own pixels: offsets of the region inside the crop.
        oy, ox = p.y0 - b.y0, p.x0 - b.x0
        pred = pred[oy : oy + p.height, ox : ox + p.width]
        crop_mask = mask[b.y0 : b.y1, b.x0 : b.x1] > 0
        region_mask = crop_mask[oy : oy + p.height, ox : ox + p.width]
        alpha = feather_alpha(crop_mask, self.feather)[oy : oy + p.height, ox : ox + p.width]
        alpha = alpha[region_mask][:, None]
        target = out[p.y0 : p.y1, p.x0 : p.x1]
        orig = target[region_mask].astype(np.float32)
        blended = alpha * (pred[region_mask] * 255.0) + (1.0 - alpha) * orig
        target[region_mask] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
