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

from imgtrans import sidecar
from imgtrans.discover import SIDECAR_SUFFIX
from imgtrans.errors import MissingFontError, NoInputError, PageError
from imgtrans.options import InpaintOptions, RenderOptions
from imgtrans.output import write_image
from imgtrans.page import Job, Page, TextBlock, TextLine
from imgtrans.sidecar_models import BlockRecord, Sidecar
from imgtrans.stages.inpaint import Inpainter
from imgtrans.stages.mask import text_mask
from imgtrans.stages.preprocess import decode, read_bytes
from imgtrans.stages.translate import without_controls
from imgtrans.stages.write import PageResult, write_error

log = logging.getLogger(__name__)

MASK_DILATE = 3
_ONE_PAGE = Page(Path(), ".", "0" * 64, np.zeros((8, 8, 3), np.uint8))


def find_sidecars(targets: list[Path]) -> list[tuple[Path, str]]:
    """Every sidecar under ``targets``, with its path relative to the target it was found
    under (a sidecar given as a file: its name), as ``--json`` failures report it."""
    found: list[tuple[Path, str]] = []
    for target in targets:
        if target.is_dir():
            found.extend(
                (path, path.relative_to(target).as_posix())
                for path in sorted(target.rglob("*" + SIDECAR_SUFFIX))
            )
        elif target.is_file():
            found.append((target, target.name))
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
    path = (root / sidecar.real_text(name)).resolve()
    if path.parent != root and root not in path.parents:
        raise PageError("path_escape", f"{what} {name!r} points outside {root}: refused")
    return path


def _with_old_areas(
    blocks: tuple[TextBlock, ...], records: list[BlockRecord]
) -> tuple[TextBlock, ...]:
    """Blocks whose lines also cover the previous lettering, for erasing it.

    The previous lettering lies inside the area it was fitted into: its outline polygon
    (inside the balloon, so erasing it never touches the balloon's border), else its box;
    an ``overflow`` block's area is the grown one, its backing included.
    """
    out = []
    for block, record in zip(blocks, records, strict=True):
        render = record.render
        polygon = list(render.area_polygon)
        if not polygon and render.area:
            x0, y0, x1, y1 = (float(v) for v in render.area)
            polygon = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        if block.translate and render.status in ("ok", "overflow") and len(polygon) >= 3:
            outline = tuple(polygon)
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


def _fitted(doc: Sidecar, width: int, height: int, path: Path) -> Sidecar:
    """``doc`` with its blocks checked against the image and clamped to it
    (:func:`fit_to_image`); the sidecar rewritten after lettering keeps the clamped values."""
    raw = [b.model_dump(mode="json") for b in doc.blocks]
    try:
        fit_to_image(raw, width, height)
    except PageError as exc:
        raise PageError(exc.kind, f"{path}: {exc}") from None
    return doc.model_copy(update={"blocks": [BlockRecord.model_validate(b) for b in raw]})


def _edited(record: BlockRecord) -> bool:
    """True when a block's translation differs from the text it was lettered with."""
    if not record.translate:
        return False
    if record.render.status != "ok":
        return True
    drawn = "".join("".join(record.render.lines).split())
    return drawn != "".join((record.translation or "").split())


def load_for_render(path: Path, max_pixels: int = 400_000_000) -> tuple[Sidecar, Page, Path]:
    """Read a sidecar and build the page to re-letter: (sidecar, page with clean image,
    output path)."""
    doc = sidecar.load(path)
    if doc.status != "ok" or doc.output is None:
        raise PageError("not_rendered", f"{path}: status {doc.status}, no image to re-letter")
    folder = path.parent
    out_path = inside(folder, doc.output.path, "output.path")
    if doc.output.clean:
        clean, _, _ = decode(
            read_bytes(inside(folder, doc.output.clean, "output.clean")), path, max_pixels
        )
        alpha, image = None, clean
        if out_path.is_file():
            image, alpha, _ = decode(read_bytes(out_path), out_path, max_pixels)
            image = image if image.shape == clean.shape else clean
        recomputed = False
    else:
        image, alpha, _ = decode(read_bytes(out_path), out_path, max_pixels)
        clean, recomputed = image, True
    doc = _fitted(doc, clean.shape[1], clean.shape[0], path)
    # Control characters a hand edit left in a translation would be drawn as boxes.
    blocks = tuple(
        replace(b, translation=without_controls(b.translation))
        for b in (record.to_block() for record in doc.blocks)
    )
    # ``image`` is the previous output: a block that is ``kept`` this time gets its pixels
    # from there (the source itself is not at hand), so it is never left erased and empty.
    page = Page(
        path,
        doc.source.path,
        doc.source.sha256 or "0" * 64,
        image,
        alpha,
        source_lang=doc.source_lang,
        blocks=blocks,
    )
    if recomputed:
        # Only the blocks whose translation was edited are erased and lettered again; the
        # others stay exactly as they are in the image.
        todo = [i for i, record in enumerate(doc.blocks) if _edited(record)]
        redo = tuple(blocks[i] for i in todo)
        clean = erase_lettering(clean, _with_old_areas(redo, [doc.blocks[i] for i in todo]))
        page = replace(page, clean=clean, blocks=redo)
    else:
        page = replace(page, clean=clean)
    return doc, page, out_path


@dataclass(frozen=True)
class LoadForRender:
    """The load stage of ``imgtrans render``: a job's sidecar -> the page to re-letter,
    whose job names the output image the sidecar points at."""

    max_pixels: int = 400_000_000

    def __call__(self, jobs: list[Job]) -> list[Page]:
        return [self.one(job) for job in jobs]

    def one(self, job: Job) -> Page:
        try:
            _, page, out_path = load_for_render(job.sidecar, self.max_pixels)
        except PageError as exc:
            return Page.failed(job, exc.kind, str(exc))
        except Exception as exc:  # noqa: BLE001 - one sidecar's bug must not stop the batch
            return Page.failed(job, "render_error", f"{job.sidecar}: {type(exc).__name__}: {exc}")
        return replace(page, job=replace(job, output=out_path))


@dataclass(frozen=True)
class Rewrite:
    """The render + write stage of ``imgtrans render``: letter the page again, write the
    image, and rewrite the sidecar's style and render records. A failed page leaves its
    sidecar as it was (it is the user's input)."""

    options: RenderOptions

    def __call__(self, pages: list[Page]) -> list[PageResult]:
        return [self.one(page) for page in pages]

    def one(self, page: Page) -> PageResult:
        from imgtrans.stages.render import render

        assert page.job is not None
        job = page.job
        if page.error is not None:
            return PageResult(job.rel_path, "failed", (page.error.kind, page.error.message))
        try:
            doc = _fitted(sidecar.load(job.sidecar), page.width, page.height, job.sidecar)
            [page] = render([page], self.options, doc.target_lang)
            assert page.output is not None
            # A JPEG output keeps the quality it was written at (that of its source).
            write_image(job.output, page.output, page.alpha, quality_of=job.output)
            redone = {b.id: BlockRecord.of(b) for b in page.blocks}
            for record in doc.blocks:
                if record.id in redone:
                    record.style = redone[record.id].style
                    record.render = redone[record.id].render
            doc.schema_version = sidecar.SCHEMA_VERSION  # rewritten in the current layout
            # keep the translate run's seal: edits stay edits
            sidecar.write(job.sidecar, doc.to_json(), seal=False)
        except PageError as exc:
            return PageResult(job.rel_path, "failed", (exc.kind, str(exc)))
        except MissingFontError as exc:
            return PageResult(job.rel_path, "failed", ("missing_font", f"{job.sidecar}: {exc}"))
        except OSError as exc:
            return PageResult(job.rel_path, "failed", write_error(job.output, exc))
        except Exception as exc:  # noqa: BLE001 - one sidecar's lettering bug must not stop the batch
            error = ("render_error", f"{job.sidecar}: {type(exc).__name__}: {exc}")
            return PageResult(job.rel_path, "failed", error)
        stats = tuple((r.render.status, r.inpaint) for r in doc.blocks)
        return PageResult(job.rel_path, "ok", blocks=stats)


def render_jobs(targets: list[Path]) -> list[Job]:
    """One job per sidecar found under ``targets`` (its output is read from the sidecar)."""
    return [Job(path, rel, path, path) for path, rel in find_sidecars(targets)]
