"""The Python API: ``from imgtrans import translate_images, ocr_images, render_outputs,
RunOptions``; three modes of one executor with the same summary, progress and fail-fast."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save

import imgtrans
from imgtrans import RunOptions, Summary, TranslatorOptions, ocr_images, render_outputs
from imgtrans import translate_images as translate_images_
from imgtrans.pipeline import FailFast

README = Path(__file__).parents[1] / "README.md"


class Recorder:
    """A progress reporter that remembers what it was told."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.seen: list[tuple[str, str]] = []

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, path: str, status: str) -> None:
        self.seen.append((path, status))

    def close(self) -> None:
        pass


def test_all_is_honest() -> None:
    """Every name in ``__all__`` imports, and every public name of the package is in it."""
    for name in imgtrans.__all__:
        assert getattr(imgtrans, name) is not None, name
    public = {
        name
        for name, value in vars(imgtrans).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations", "TYPE_CHECKING", "Any"}  # submodules and import machinery aside
    assert public <= set(imgtrans.__all__), public - set(imgtrans.__all__)
    assert set(imgtrans._LAZY) | {"__version__"} == set(imgtrans.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        imgtrans.nope  # noqa: B018


def test_every_option_has_a_default() -> None:
    options = RunOptions()
    assert options.target_lang and options.executor == "local"
    assert RunOptions.model_validate({}) == options


def _pages(folder: Path, words: list[str]) -> Path:
    for i, word in enumerate(words):
        save(draw(360, 110, [Text(word, (30, 25), 44, font=FONT_KO)]), folder / f"p{i}.png")
    return folder


def test_translate_ocr_and_render_share_summary_and_progress(tmp_path: Path) -> None:
    src = _pages(tmp_path / "in", ["Hello", "Station"])
    tm = tmp_path / "tm.tsv"
    tm.write_text("Hello\t안녕\nStation\t역\n", "utf-8")
    out = tmp_path / "out"
    progress = Recorder()
    options = RunOptions(
        target_lang="ko", output=out, jobs=1, translator=TranslatorOptions(name="tm", tm=tm)
    )
    summary = translate_images_([src], options, progress=progress)
    assert isinstance(summary, Summary) and summary.done == 2 and summary.failed == 0
    assert progress.total == 2 and sorted(progress.seen) == [("p0.png", "ok"), ("p1.png", "ok")]
    doc = json.loads((out / "p0.imgtrans.json").read_text("utf-8"))
    assert doc["blocks"][0]["translation"] == "안녕"

    again = translate_images_([src], options)  # resume: decided before scheduling
    assert again.skipped == 2 and again.done == 0

    progress = Recorder()
    read = ocr_images([src], RunOptions(output=tmp_path / "ocr", jobs=1), progress=progress)
    assert read.done == 2 and progress.total == 2 and len(progress.seen) == 2
    assert sorted(p.name for p in (tmp_path / "ocr").iterdir()) == [
        "p0.imgtrans.json",
        "p1.imgtrans.json",
    ]  # sidecars only

    doc["blocks"][0]["translation"] = "안녕하세요"
    (out / "p0.imgtrans.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    progress = Recorder()
    redone = render_outputs([out], RunOptions(jobs=1), progress=progress)
    assert redone.done == 2 and redone.total == 2 and len(progress.seen) == 2
    lines = json.loads((out / "p0.imgtrans.json").read_text("utf-8"))["blocks"][0]["render"]
    assert "".join(lines["lines"]).replace(" ", "") == "안녕하세요"


def test_fail_fast_stops_every_mode(tmp_path: Path) -> None:
    src = _pages(tmp_path / "in", ["Hello", "Station", "Coffee"])
    (src / "p1.png").write_bytes(b"not an image")
    with pytest.raises(FailFast, match="p1.png"):
        ocr_images([src], RunOptions(output=tmp_path / "ocr", jobs=1, fail_fast=True))
    with pytest.raises(FailFast, match="p1.png"):
        translate_images_([src], RunOptions(output=tmp_path / "o", jobs=1, fail_fast=True))
    broken = tmp_path / "o" / "p0.imgtrans.json"
    broken.write_text("{", "utf-8")
    with pytest.raises(FailFast, match="p0.imgtrans.json"):
        render_outputs([broken, tmp_path / "o"], RunOptions(jobs=1, fail_fast=True))


def test_the_readme_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python API example, run as written in the repository root."""
    text = README.read_text("utf-8")
    example = re.search(r"## Python API.*?```python\n(.*?)```", text, re.S)
    assert example, "README.md has no '## Python API' section with a python example"
    monkeypatch.chdir(README.parent)
    code = example.group(1).replace('"examples/pages_ko"', repr(str(tmp_path / "out")))
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    summary = namespace["summary"]
    assert isinstance(summary, Summary) and summary.done > 0 and summary.failed == 0
