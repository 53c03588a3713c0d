"""Issue 17, part 1: nothing crossed, nothing overwritten, nothing swallowed.

Each test runs the real CLI on generated pages (OCR reads the drawn words, the translation
memory translates them) and checks the files a user would find afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode

runner = CliRunner()
TM = {"Hello": "안녕", "World": "세계"}


def page(path: Path, word: str) -> Path:
    return save(draw(420, 140, [Text(word, (40, 40), 48, font=FONT_KO)]), path)


@pytest.fixture
def tm(tmp_path: Path) -> Path:
    path = tmp_path / "tm.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in TM.items()), "utf-8")
    return path


def run(*args: object) -> tuple[int, dict, str]:
    """``imgtrans translate ARGS --json -j 1`` -> (exit code, summary, all output)."""
    argv = ["translate", *map(str, args), "--to", "ko", "-j", "1", "--json"]
    result = runner.invoke(app, argv)
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return result.exit_code, summary, result.output


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def doc(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


# 1. Crossed pages ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["default", "one -o"])
def test_a_multi_root_run_writes_what_one_run_per_root_writes(
    tmp_path: Path, tm: Path, layout: str
) -> None:
    """ch1/p.png and ch2/p.png in one batch: each output holds its own page's text."""
    for mode in ("multi", "single"):
        page(tmp_path / mode / "ch1" / "p.png", "Hello")
        page(tmp_path / mode / "ch2" / "p.png", "World")
    multi, single = tmp_path / "multi", tmp_path / "single"
    if layout == "default":
        code, summary, out = run(multi / "ch1", multi / "ch2", "--tm", tm)
        for ch in ("ch1", "ch2"):
            assert run(single / ch, "--tm", tm)[0] == 0
        pairs = [(multi / f"{ch}_ko", single / f"{ch}_ko") for ch in ("ch1", "ch2")]
    else:
        code, summary, out = run(multi / "ch1", multi / "ch2", "--tm", tm, "-o", multi / "o")
        for ch in ("ch1", "ch2"):
            assert run(single / ch, "--tm", tm, "-o", single / "o" / ch)[0] == 0
        pairs = [(multi / "o", single / "o")]
    assert code == 0, out
    assert summary["done"] == 2
    for got, want in pairs:
        assert tree(got) == tree(want)
    first = pairs[0][0] / ("p.imgtrans.json" if layout == "default" else "ch1/p.imgtrans.json")
    assert [b["translation"] for b in doc(first)["blocks"]] == ["안녕"]


# 2. Originals never overwritten --------------------------------------------------------


def test_a_file_input_is_never_its_own_output(tmp_path: Path, tm: Path) -> None:
    original = page(tmp_path / "p.png", "Hello").read_bytes()
    code, summary, out = run(tmp_path / "p.png", "--tm", tm, "-o", tmp_path)
    assert code == ExitCode.SOME_FAILED, out
    assert (tmp_path / "p.png").read_bytes() == original
    assert [(f["path"], f["kind"]) for f in summary["failures"]] == [("p.png", "output_path")]
    assert "would overwrite the input" in summary["failures"][0]["message"]
    assert not (tmp_path / "p.imgtrans.json").exists()


def test_an_output_folder_inside_the_input_is_left_out_and_said_so(
    tmp_path: Path, tm: Path
) -> None:
    d = tmp_path / "d"
    page(d / "p.png", "Hello")
    own = page(d / "sub" / "q.png", "World").read_bytes()
    code, summary, out = run(d, "--tm", tm, "-o", d / "sub")
    assert code == 0, out
    assert summary["total"] == 1  # d/sub/q.png is in the output folder: not an input
    assert [w["path"] for w in summary["warnings"]] == ["sub"]
    assert "not read as inputs" in summary["warnings"][0]["message"]
    assert (d / "sub" / "q.png").read_bytes() == own
    assert doc(d / "sub" / "p.imgtrans.json")["blocks"][0]["translation"] == "안녕"
    code, summary, _ = run(d, "--tm", tm, "-o", d / "sub")  # the rerun: nothing translated twice
    assert (code, summary["skipped"], summary["total"]) == (0, 1, 1)
    assert not (d / "sub" / "sub").exists()


def test_an_output_inside_an_input_tree_is_refused(tmp_path: Path, tm: Path) -> None:
    """``-o d`` for the input ``d/sub``: ``d/sub/sub/x.png`` would land on ``d/sub/x.png``,
    an input file."""
    d = tmp_path / "d"
    victim = page(d / "sub" / "x.png", "Hello").read_bytes()
    page(d / "sub" / "sub" / "x.png", "World")
    code, summary, out = run(d / "sub", "--tm", tm, "-o", d)
    assert code == ExitCode.SOME_FAILED, out
    assert (d / "sub" / "x.png").read_bytes() == victim
    assert {f["path"]: f["kind"] for f in summary["failures"]} == {"sub/x.png": "output_path"}
    assert summary["done"] == 1  # d/sub/x.png -> d/x.png is fine


# 4. Several inputs under one -o --------------------------------------------------------


def test_one_input_given_twice_or_with_a_file_inside_it_is_one_input(
    tmp_path: Path, tm: Path
) -> None:
    a = tmp_path / "a"
    page(a / "p.png", "Hello")
    page(a / "deep" / "q.png", "World")
    for extra in (a, a / "p.png", a / "deep", tmp_path / "." / "a"):
        out = tmp_path / f"o{len(list(tmp_path.iterdir()))}"
        code, summary, output = run(a, extra, "--tm", tm, "-o", out)
        assert (code, summary["total"], summary["done"]) == (0, 2, 2), output
        assert sorted(tree(out)) == [
            "deep/q.imgtrans.json",
            "deep/q.png",
            "p.imgtrans.json",
            "p.png",
        ]


def test_two_inputs_with_the_same_name_are_refused_before_any_work(
    tmp_path: Path, tm: Path
) -> None:
    page(tmp_path / "x" / "ch1" / "p.png", "Hello")
    page(tmp_path / "y" / "ch1" / "p.png", "World")
    out = tmp_path / "out"
    code, _, output = run(tmp_path / "x" / "ch1", tmp_path / "y" / "ch1", "--tm", tm, "-o", out)
    assert code == ExitCode.USAGE, output
    assert "same name 'ch1'" in output
    assert not out.exists()


# 5. File modes -------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_get_the_mode_a_plain_write_gives(tmp_path: Path, tm: Path, umask: int) -> None:
    page(tmp_path / "in" / "p.png", "Hello")
    previous = os.umask(umask)
    try:
        code, _, output = run(tmp_path / "in", "--tm", tm, "-o", tmp_path / "out", "--keep-clean")
    finally:
        os.umask(previous)
    assert code == 0, output
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "out").iterdir()}
    assert modes == dict.fromkeys(["p.png", "p.clean.png", "p.imgtrans.json"], 0o666 & ~umask)


def test_copying_the_fixture_tree_is_what_cp_r_gives(tmp_path: Path) -> None:
    """The mirror promise, checked against cp -r itself: same relative paths."""
    for root in ("a", "b"):
        page(tmp_path / root / "s" / "p.png", "Hello")
    out = tmp_path / "out"
    code, _, output = run(tmp_path / "a", tmp_path / "b", "-t", "none", "-o", out)
    assert code == 0, output
    copy = tmp_path / "copy"
    copy.mkdir()
    for root in ("a", "b"):
        shutil.copytree(tmp_path / root, copy / root)
    images = {k for k in tree(out) if k.endswith(".png")}
    assert images == set(tree(copy))
