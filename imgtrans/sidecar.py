"""The JSON sidecar: what was read, translated and drawn, beside each output image.

Schema version 1 (``imgtrans schema`` prints the JSON Schema, kept in
``imgtrans/sidecar.schema.json``). The sidecar is written after the image, atomically, so
"sidecar says ok" implies the image is complete. It is also an input: the resume check
and ``imgtrans render`` read it back.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from imgtrans.page import Page, TextBlock

SCHEMA_VERSION = 1


@cache
def schema() -> dict[str, Any]:
    text = resources.files("imgtrans").joinpath("sidecar.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def validate(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``doc`` breaks the schema."""
    import jsonschema

    jsonschema.validate(doc, schema())


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run that go in every sidecar's ``run`` section."""

    version: str
    models: dict[str, str]
    translator: str
    options_sha256: str
    inpainter: str
    source_lang: str
    target_lang: str


def block_json(block: TextBlock) -> dict[str, Any]:
    render = block.render
    style = block.style
    return {
        "id": block.id,
        "bbox": block.bbox.as_list(),
        "direction": block.direction,
        "translate": block.translate,
        "note": block.note,
        "lines": [
            {
                "polygon": [[float(x), float(y)] for x, y in line.polygon],
                "text": line.text,
                "confidence": float(line.confidence),
                "direction": line.direction,
            }
            for line in block.lines
        ],
        "text": block.text,
        "translation": block.translation,
        "translation_error": block.translation_error,
        "inpaint": block.inpaint_path,
        "style": None
        if style is None
        else {
            "text_color": list(style.text_color),
            "background_color": list(style.background_color),
            "outline_color": None if style.outline_color is None else list(style.outline_color),
            "font_size": style.font_size,
            "alignment": style.alignment,
        },
        "render": {
            "status": render.status
            if render
            else ("skipped" if not block.translate else "untranslated"),
            "font_size": render.font_size if render else None,
            "lines": list(render.lines) if render else [],
            "area": render.area.as_list() if render and render.area else None,
            "area_polygon": [[float(x), float(y)] for x, y in render.area_polygon]
            if render
            else [],
            "balloon": bool(render.balloon) if render else False,
            "outline_width": render.outline_width if render else 0,
            "direction": render.direction if render else block.direction,
        },
    }


def page_json(
    page: Page,
    run: RunInfo,
    output_rel: str | None,
    status: str,
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The sidecar document of one page (``status`` ok/failed/skipped)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source": {
            "path": page.rel_path,
            "sha256": page.sha256,
            "width": page.width,
            "height": page.height,
        },
        "output": None if output_rel is None else {"path": output_rel},
        "source_lang": page.source_lang or run.source_lang,
        "target_lang": run.target_lang,
        "status": status,
        "error": None if error is None else {"kind": error[0], "message": error[1]},
        "notes": list(page.notes),
        "blocks": [block_json(b) for b in page.blocks],
        "run": _run_json(run),
    }


def failed_json(
    rel_path: str, sha256: str | None, run: RunInfo, kind: str, message: str
) -> dict[str, Any]:
    """Sidecar for an input that failed before it became a page."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source": {"path": rel_path, "sha256": sha256, "width": None, "height": None},
        "output": None,
        "source_lang": run.source_lang,
        "target_lang": run.target_lang,
        "status": "failed",
        "error": {"kind": kind, "message": message},
        "notes": [],
        "blocks": [],
        "run": _run_json(run),
    }


def _run_json(run: RunInfo) -> dict[str, Any]:
    return {
        "imgtrans": run.version,
        "models": dict(run.models),
        "translator": run.translator,
        "inpainter": run.inpainter,
        "options_sha256": run.options_sha256,
    }


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(path: Path, doc: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n")


def read(path: Path) -> dict[str, Any] | None:
    """The sidecar at ``path``, or None when absent, unreadable, not UTF-8 or not ours."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        return None
    return doc


def is_done(doc: dict[str, Any] | None, sha256: str, options_sha256: str) -> bool:
    """True when ``doc`` records a finished page for these input bytes and options."""
    if doc is None or doc.get("status") != "ok":
        return False
    source = doc.get("source") or {}
    run = doc.get("run") or {}
    return bool(source.get("sha256") == sha256 and run.get("options_sha256") == options_sha256)
