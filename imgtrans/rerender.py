"""``imgtrans render``: re-letter output images from (edited) sidecars.

No OCR and no translation: each sidecar's blocks, with whatever translations the user
wrote into it, are lettered again onto the erased background. That background is the
``<stem>.clean.png`` kept by ``translate --keep-clean`` when present; otherwise it is
recomputed from the output image: only blocks whose translation was edited are erased
(through the area their previous lettering used) and lettered again.

Every path a sidecar names is resolved inside the folder the sidecar lives in: a sidecar
cannot make imgtrans read or write anywhere else. Its geometry is checked against the image
(:func:`fit_to_image`): coordinates are clamped to the image and font sizes capped to it; a
block with no lines, a non-finite number or a line wholly outside the image fails that file
(``bad_sidecar``). Any failure while lettering one file fails that file alone.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from imgtrans import archive, sidecar
from imgtrans.discover import SIDECAR_SUFFIX
from imgtrans.errors import MissingFontError, NoInputError, PageError
from imgtrans.options import InpaintOptions, RenderOptions
from imgtrans.output import write_image
from imgtrans.page import RGB, Page, TextBlock, TextLine, TextStyle
from imgtrans.stages.inpaint import Inpainter
from imgtrans.stages.mask import text_mask
from imgtrans.stages.preprocess import decode, read_bytes

log = logging.getLogger(__name__)

MASK_DILATE = 3
_ONE_PAGE = Page(Path(), ".", "0" * 64, np.zeros((8, 8, 3), np.uint8))


@dataclass
class RenderSummary:
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    overflow: int = 0
    failures: list[dict[str, str]] | None = None


def find_sidecars(targets: list[Path]) -> list[Path]:
    found: list[Path] = []
    for target in targets:
        if target.is_dir():
            found.extend(sorted(target.rglob("*" + SIDECAR_SUFFIX)))
        elif target.is_file():
            found.append(target)
        else:
            raise NoInputError(f"not found: {target}")
    if not found:
        raise NoInputError("no sidecars (*.imgtrans.json) found in " + ", ".join(map(str, targets)))
    return found


def inside(folder: Path, name: object, what: str) -> Path:
    """``folder / name`` if it stays inside ``folder`` (after resolving links), else PageError."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise PageError("bad_sidecar", f"{what}: not a file name: {name!r}")
    root = folder.resolve()
    path = (root / name).resolve()
    if path.parent != root and root not in path.parents:
        raise PageError("path_escape", f"{what} {name!r} points outside {root}: refused")
    return path


def _rgb(value: list[int]) -> RGB:
    r, g, b = (int(v) for v in value)
    return (r, g, b)


def _block(doc: dict[str, Any]) -> TextBlock:
    lines = tuple(
        TextLine(
            tuple((float(x), float(y)) for x, y in ln["polygon"]),
            str(ln["text"]),
            float(ln["confidence"]),
            ln.get("direction", doc["direction"]),
            ln.get("rec_model"),
        )
        for ln in doc["lines"]
    )
    style = doc.get("style")
    return TextBlock(
        id=int(doc["id"]),
        lines=lines,
        direction=doc["direction"],
        translate=bool(doc.get("translate", True)),
        note=doc.get("note"),
        translation=doc.get("translation"),
        inpaint_path=doc.get("inpaint"),
        style=None
        if style is None
        else TextStyle(
            _rgb(style["text_color"]),
            _rgb(style["background_color"]),
            None if style.get("outline_color") is None else _rgb(style["outline_color"]),
            int(style["font_size"]),
            style.get("alignment", "center"),
        ),
    )


def _with_old_areas(
    blocks: tuple[TextBlock, ...], doc_blocks: list[dict[str, Any]]
) -> tuple[TextBlock, ...]:
    """Blocks whose lines also cover the previous lettering, for erasing it.

    The previous lettering lies inside the area it was fitted into: its outline polygon
    (inside the balloon, so erasing it never touches the balloon's border), else its box;
    an ``overflow`` block's area is the grown one, its backing included.
    """
    out = []
    for block, raw in zip(blocks, doc_blocks, strict=True):
        render = raw.get("render") or {}
        polygon = render.get("area_polygon") or []
        if not polygon and render.get("area"):
            x0, y0, x1, y1 = (float(v) for v in render["area"])
            polygon = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        if block.translate and render.get("status") in ("ok", "overflow") and len(polygon) >= 3:
            outline = tuple((float(x), float(y)) for x, y in polygon)
            block = replace(
                block, lines=(*block.lines, TextLine(outline, "", 1.0, block.direction))
            )
        out.append(block)
    return tuple(out)


def erase_lettering(image: np.ndarray, blocks: tuple[TextBlock, ...]) -> np.ndarray:
    """Erase source lines and previous lettering: blocks that were erased flat get their
    measured background colour back (exact for balloons); the others go to OpenCV."""
    out = image.copy()
    rest = []
    for block in blocks:
        if not block.translate:
            continue
        if block.inpaint_path == "flat" and block.style is not None:
            mask = text_mask(replace(_ONE_PAGE, image=out, blocks=(block,)), MASK_DILATE)
            out[mask > 0] = block.style.background_color
        else:
            rest.append(block)
    if rest:
        page = replace(_ONE_PAGE, image=out, blocks=tuple(rest))
        page = replace(page, mask=text_mask(page, MASK_DILATE))
        cleaned = Inpainter(InpaintOptions(inpainter="opencv", flat_std=0.0))([page])[0].clean
        assert cleaned is not None
        out = cleaned
    return out


def _clamped(points: Any, width: int, height: int, what: str) -> list[list[float]]:
    """``points`` ([[x, y], ...]) clamped to the image; PageError if one is not finite."""
    out = []
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PageError("bad_sidecar", f"{what}: coordinate ({x}, {y}) is not a finite number")
        out.append([min(max(float(x), 0.0), float(width)), min(max(float(y), 0.0), float(height))])
    return out


def fit_to_image(blocks: list[dict[str, Any]], width: int, height: int) -> None:
    """Check a sidecar's blocks against a ``width`` x ``height`` image, in place: polygons and
    areas clamped to the image, font sizes capped to it. PageError (``bad_sidecar``) for a
    block without lines, a coordinate that is not a finite number, or a line that lies wholly
    outside the image (nothing of it could be erased or lettered)."""
    for raw in blocks:
        what = f"block {raw['id']}"
        if not raw["lines"]:
            raise PageError("bad_sidecar", f"{what}: no lines (a block needs at least one)")
        for n, line in enumerate(raw["lines"], 1):
            line["polygon"] = poly = _clamped(line["polygon"], width, height, f"{what} line {n}")
            xs, ys = [p[0] for p in poly], [p[1] for p in poly]
            if max(xs) - min(xs) < 1 or max(ys) - min(ys) < 1:
                raise PageError(
                    "bad_sidecar", f"{what} line {n}: outside the {width}x{height} image"
                )
        if raw.get("style"):
            raw["style"]["font_size"] = min(int(raw["style"]["font_size"]), min(width, height))
        render = raw.get("render") or {}
        if render.get("area_polygon"):
            render["area_polygon"] = _clamped(render["area_polygon"], width, height, what)
        if render.get("area"):
            (x0, y0), (x1, y1) = _clamped(
                [render["area"][:2], render["area"][2:]], width, height, what
            )
            render["area"] = [round(x0), round(y0), round(x1), round(y1)]


def _edited(raw: dict[str, Any]) -> bool:
    """True when a block's translation differs from the text it was lettered with."""
    render = raw.get("render") or {}
    if not raw.get("translate", True):
        return False
    if render.get("status") != "ok":
        return True
    drawn = "".join("".join(render.get("lines") or []).split())
    return drawn != "".join((raw.get("translation") or "").split())


def load_for_render(path: Path, max_pixels: int = 400_000_000) -> tuple[dict[str, Any], Page, Path]:
    """Read a sidecar and build the page to re-letter: (doc, page with clean image, output path)."""
    doc = sidecar.read(path)
    if doc is None:
        raise PageError("bad_sidecar", f"{path}: not an imgtrans sidecar (or not valid JSON/UTF-8)")
    try:
        sidecar.validate(doc)
    except Exception as exc:  # noqa: BLE001 - jsonschema's error names the field
        raise PageError("bad_sidecar", f"{path}: {str(exc).splitlines()[0]}") from None
    if doc["status"] != "ok" or not doc.get("output"):
        raise PageError("not_rendered", f"{path}: status {doc['status']}, no image to re-letter")
    folder = path.parent
    out_path = inside(folder, doc["output"]["path"], "output.path")
    clean_name = doc["output"].get("clean")
    if clean_name:
        clean, _, _ = decode(
            read_bytes(inside(folder, clean_name, "output.clean")), path, max_pixels
        )
        alpha, image = None, clean
        if out_path.is_file():
            image, alpha, _ = decode(read_bytes(out_path), out_path, max_pixels)
            image = image if image.shape == clean.shape else clean
        recomputed = False
    else:
        image, alpha, _ = decode(read_bytes(out_path), out_path, max_pixels)
        clean, recomputed = image, True
    try:
        fit_to_image(doc["blocks"], clean.shape[1], clean.shape[0])
    except PageError as exc:
        raise PageError(exc.kind, f"{path}: {exc}") from None
    blocks = tuple(_block(b) for b in doc["blocks"])
    source = doc["source"]
    # ``image`` is the previous output: a block that is ``kept`` this time gets its pixels
    # from there (the source itself is not at hand), so it is never left erased and empty.
    page = Page(
        path,
        source["path"],
        source["sha256"] or "0" * 64,
        image,
        alpha,
        source_lang=doc.get("source_lang"),
        blocks=blocks,
    )
    if recomputed:
        # Only the blocks whose translation was edited are erased and lettered again; the
        # others stay exactly as they are in the image.
        todo = [i for i, raw in enumerate(doc["blocks"]) if _edited(raw)]
        redo = tuple(blocks[i] for i in todo)
        clean = erase_lettering(clean, _with_old_areas(redo, [doc["blocks"][i] for i in todo]))
        page = replace(page, clean=clean, blocks=redo)
    else:
        page = replace(page, clean=clean)
    return doc, page, out_path


def rerender_one(path: Path, options: RenderOptions) -> tuple[str, int]:
    """Re-letter the image of one sidecar; returns (status, overflow count)."""
    from imgtrans.stages.render import render

    doc, page, out_path = load_for_render(path)
    [page] = render([page], options, doc["target_lang"])
    assert page.output is not None
    # A JPEG output keeps the quality it was written at (that of its source).
    write_image(out_path, page.output, page.alpha, quality_of=out_path)
    redone = {b.id: sidecar.block_json(b) for b in page.blocks}
    doc["blocks"] = [
        {**old, "style": redone[old["id"]]["style"], "render": redone[old["id"]]["render"]}
        if old["id"] in redone
        else old
        for old in doc["blocks"]
    ]
    sidecar.validate(doc)
    sidecar.write(path, doc, seal=False)  # keep the translate run's seal: edits stay edits
    overflow = sum(1 for b in doc["blocks"] if b["render"]["status"] == "overflow")
    return "ok", overflow


def _rerender_guarded(path: Path, options: RenderOptions) -> tuple[str, int]:
    """:func:`rerender_one`, where whatever goes wrong with this file is this file's failure."""
    try:
        return rerender_one(path, options)
    except PageError:
        raise
    except MissingFontError as exc:
        raise PageError("missing_font", f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - one sidecar's lettering bug must not stop the batch
        raise PageError("render_error", f"{path}: {type(exc).__name__}: {exc}") from None


def rerender(targets: list[Path], options: RenderOptions, fail_fast: bool = False) -> RenderSummary:
    paths = find_sidecars(targets)
    summary = RenderSummary(total=len(paths), failures=[])
    rendered: list[Path] = []
    for path in paths:
        try:
            _, overflow = _rerender_guarded(path, options)
        except PageError as exc:
            summary.failed += 1
            assert summary.failures is not None
            summary.failures.append({"path": str(path), "kind": exc.kind, "message": str(exc)})
            log.error("%s", exc)
            if fail_fast:
                break
            continue
        summary.done += 1
        summary.overflow += overflow
        rendered.append(path)
    for problem in archive.rebuild_after_render(rendered):  # comic archives: their .cbz
        log.warning("%s", problem)
    return summary
