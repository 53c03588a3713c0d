"""``imgtrans report``: one self-contained HTML page to look over a translated folder.

Reads every sidecar under an output folder and writes one HTML file: totals at the top,
then one section per page, worst first: the source and the output side by side with each
block's outline drawn over them (SVG, coloured by status) and a table of source text,
translation, confidence and render status. Images are referenced by relative paths (or
embedded as data URIs with ``embed``); the page loads nothing from the network and runs no
script.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from imgtrans import archive, sidecar
from imgtrans.errors import NoInputError
from imgtrans.sidecar import atomic_write_bytes

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".imgtrans.json"
# Block status -> outline colour. "skipped" blocks (noise, sound effects kept as drawn)
# are shown as "kept as drawn"; "kept" is a translated block left unerased.
COLOURS = {
    "ok": "#1a9850",
    "overflow": "#f46d43",
    "untranslated": "#4575b4",
    "kept": "#984ea3",
    "skipped": "#999999",
    "failed": "#d73027",
}
PROBLEMS = ("failed", "overflow", "kept", "untranslated")


@dataclass
class BlockRow:
    id: int
    status: str
    source: str
    translation: str
    confidence: float | None
    note: str
    points: str  # SVG polygon points, page pixels


@dataclass
class PageEntry:
    name: str
    status: str
    error: str
    width: int
    height: int
    before: str | None  # image URL (relative path or data URI)
    after: str | None
    blocks: list[BlockRow] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(b.status for b in self.blocks)

    @property
    def badness(self) -> tuple[int, int, float]:
        """Sort key, larger is worse: failed page, problem blocks, their share."""
        problems = sum(self.counts[s] for s in PROBLEMS)
        share = problems / max(1, len(self.blocks))
        return (int(self.status == "failed"), problems, share)


def _block_status(block: dict[str, Any]) -> str:
    render = block.get("render") or {}
    status = str(render.get("status") or ("untranslated" if block.get("translate") else "skipped"))
    if block.get("translation_error") and status == "untranslated":
        return "untranslated"
    return status if status in COLOURS else "failed"


def _points(block: dict[str, Any]) -> str:
    """SVG points of the block's outline (its box), page pixels."""
    x0, y0, x1, y1 = (float(v) for v in block.get("bbox") or (0, 0, 0, 0))
    return f"{x0:.0f},{y0:.0f} {x1:.0f},{y0:.0f} {x1:.0f},{y1:.0f} {x0:.0f},{y1:.0f}"


def _confidence(block: dict[str, Any]) -> float | None:
    values = [float(ln["confidence"]) for ln in block.get("lines") or [] if "confidence" in ln]
    return min(values) if values else None


def _rows(doc: dict[str, Any]) -> list[BlockRow]:
    rows: list[BlockRow] = []
    for block in doc.get("blocks") or []:
        render = block.get("render") or {}
        note = block.get("note") or block.get("translation_error") or render.get("reason") or ""
        rows.append(
            BlockRow(
                id=int(block.get("id", len(rows))),
                status=_block_status(block),
                source=str(block.get("text") or ""),
                translation=str(block.get("translation") or ""),
                confidence=_confidence(block),
                note=str(note),
                points=_points(block),
            )
        )
    return rows


def _image_url(path: Path, report_dir: Path, embed: bool) -> str | None:
    if not path.is_file():
        return None
    if embed:
        return _data_uri(path.name, path.read_bytes())
    rel = os.path.relpath(path.resolve(), report_dir.resolve())
    # Percent-encoded bytes: a name with '#', '?', '%' or spaces, or one that is not
    # UTF-8 (lone surrogates here), still points at its file.
    return quote(os.fsencode("/".join(Path(rel).parts)), safe="/")


def _shown(name: str) -> str:
    """A file name as text to print: the bytes of a name that is not UTF-8 as ``\\xe9``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _source_file(doc: dict[str, Any], input_root: Path | None) -> Path | None:
    """The source image of a sidecar under ``input_root`` when its bytes still match."""
    source = doc.get("source") or {}
    rel = source.get("path")
    if input_root is None or not isinstance(rel, str):
        return None
    path = input_root / rel
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return path if hashlib.sha256(data).hexdigest() == source.get("sha256") else None


def _before_url(
    doc: dict[str, Any], root: Path | None, report_dir: Path, embed: bool
) -> str | None:
    """The source image's URL; a page of a comic archive is embedded (it has no file)."""
    path = _source_file(doc, root)
    if path is not None:
        return _image_url(path, report_dir, embed)
    source = doc.get("source") or {}
    rel = source.get("path")
    data = None
    if root is not None and isinstance(rel, str):
        data = archive.source_page(root, rel, source.get("sha256"))
    return None if data is None else _data_uri(str(rel), data)


def _data_uri(name: str, data: bytes) -> str:
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _default_input(outdir: Path, docs: list[dict[str, Any]]) -> Path | None:
    """``translate``'s default output is ``<input>_<lang>``: the sibling without the suffix."""
    langs = {str(d.get("target_lang")) for d in docs}
    for lang in langs:
        suffix = f"_{lang}"
        if outdir.name.endswith(suffix) and len(outdir.name) > len(suffix):
            candidate = outdir.with_name(outdir.name[: -len(suffix)])
            if candidate.is_dir():
                return candidate
    return None


def collect(
    outdir: Path, input_root: Path | None, report_dir: Path, embed: bool
) -> list[PageEntry]:
    """One :class:`PageEntry` per readable sidecar under ``outdir``, worst page first."""
    found = []
    for path in sorted(outdir.rglob("*" + SIDECAR_SUFFIX)):
        doc, why = sidecar.read_checked(path)
        if doc is None:
            log.warning("%s %s: left out of the report", path, why or "is missing")
            continue
        found.append((path, sidecar.real_doc(doc)))
    if not found:
        raise NoInputError(f"{outdir}: no imgtrans sidecars (*{SIDECAR_SUFFIX}) found")
    root = input_root or _default_input(outdir, [d for _, d in found])
    pages = []
    for path, doc in found:
        source = doc.get("source") or {}
        output = doc.get("output") or {}
        after = path.parent / output["path"] if output.get("path") else None
        before = _before_url(doc, root, report_dir, embed)
        error = doc.get("error") or {}
        name = str(source.get("path") or path.name)
        if output.get("path") and Path(output["path"]).name != Path(name).name:
            name += f" → {output['path']}"
        pages.append(
            PageEntry(
                name=name,
                status=str(doc.get("status")),
                error=f"{error.get('kind')}: {error.get('message')}" if error else "",
                width=int(source.get("width") or 0),
                height=int(source.get("height") or 0),
                before=before,
                after=None if after is None else _image_url(after, report_dir, embed),
                blocks=_rows(doc),
            )
        )
    pages.sort(key=lambda p: p.badness, reverse=True)
    return pages


def render_html(pages: list[PageEntry], title: str) -> str:
    """The report as one HTML document."""
    env = Environment(
        loader=PackageLoader("imgtrans", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: _shown(value) if isinstance(value, str) else value,
    )
    totals: Counter[str] = Counter()
    for page in pages:
        totals.update(page.counts)
    return env.get_template("report.html.j2").render(
        title=title,
        pages=pages,
        totals=totals,
        n_blocks=sum(len(p.blocks) for p in pages),
        failed_pages=sum(p.status == "failed" for p in pages),
        colours=COLOURS,
    )


def write_report(
    outdir: Path, report: Path | None = None, input_root: Path | None = None, embed: bool = False
) -> Path:
    """Write the report of ``outdir`` (default ``outdir/report.html``); returns its path.

    Raises NoInputError when ``outdir`` holds no sidecar.
    """
    if not outdir.is_dir():
        raise NoInputError(f"{outdir}: not a folder")
    target = report if report is not None else outdir / "report.html"
    pages = collect(outdir, input_root, target.parent, embed)
    html = render_html(pages, f"imgtrans report: {outdir.name}")
    atomic_write_bytes(target, html.encode("utf-8"))
    umask = os.umask(0)
    os.umask(umask)
    target.chmod(0o666 & ~umask)  # an ordinary file to share, not the temp file's 0600
    return target
