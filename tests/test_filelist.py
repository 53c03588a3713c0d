"""File lists: `translate -` (stdin, -0) and --files-from; listed paths mirrored under -o."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode
from imgtrans.filelist import parse

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def here(bare_cwd: Path) -> Path:
    """The current folder, holding pages/a.png, pages/sub/b c.png and tm.tsv."""
    for rel, word in (("pages/a.png", "Hello"), ("pages/sub/b c.png", "Thank you")):
        save(draw(480, 200, [Text(word, (40, 60), 44, font=FONT_KO)]), bare_cwd / rel)
    (bare_cwd / "tm.tsv").write_text("Hello\t안녕\nThank you\t고마워\n", encoding="utf-8")
    return bare_cwd


def run(args: list[str], stdin: bytes = b"") -> tuple[int, dict[str, object], str]:
    base = ["translate", *args, "--to", "ko", "--tm", "tm.tsv", "-j", "1", "-q", "--json"]
    result = runner.invoke(app, base, input=stdin)
    lines = result.stdout.strip().splitlines()
    return result.exit_code, json.loads(lines[-1]) if lines else {}, result.output


def test_parse_lines_and_nul() -> None:
    assert parse(b"a.png\r\nb c.png\n\n", nul=False) == [Path("a.png"), Path("b c.png")]
    assert parse(b"a\nb.png\0c.png\0", nul=True) == [Path("a\nb.png"), Path("c.png")]
    assert parse(b"\xff.png\n", nul=False)[0].name == "\udcff.png"  # not UTF-8: kept


def test_stdin_lines_mirror_relative_paths_under_o(here: Path) -> None:
    code, summary, out = run(["-", "-o", "out"], b"pages/a.png\npages/sub/b c.png\n")
    assert code == 0, out
    assert summary["done"] == 2
    assert (here / "out" / "pages" / "a.png").is_file()
    assert (here / "out" / "pages" / "sub" / "b c.png").is_file()
    doc = json.loads((here / "out/pages/sub/b c.imgtrans.json").read_text("utf-8"))
    assert doc["source"]["path"] == "pages/sub/b c.png"


def test_nul_separated_names_and_files_from(here: Path) -> None:
    weird = here / "pages" / "odd\nname.png"
    shutil.copy(here / "pages" / "a.png", weird)
    code, summary, out = run(["-", "-0", "-o", "out"], b"pages/odd\nname.png\0")
    assert code == 0, out
    assert (here / "out" / "pages" / "odd\nname.png").is_file()
    (here / "list.txt").write_text("pages\n", encoding="utf-8")  # a listed folder is walked
    code, summary, out = run(["--files-from", "list.txt", "-o", "out2"])
    assert code == 0, out
    assert summary["done"] == 3
    assert (here / "out2" / "pages" / "sub" / "b c.png").is_file()


def test_default_output_is_the_sibling_of_the_current_folder(here: Path) -> None:
    code, _, out = run(["-"], b"pages/a.png\n")
    assert code == 0, out
    assert (here.parent / f"{here.name}_ko" / "pages" / "a.png").is_file()


def test_bad_entries_fail_alone(here: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    shutil.copy(here / "pages" / "a.png", outside)
    (here / "notes.txt").write_text("x", encoding="utf-8")
    listed = f"{outside}\nmissing.png\nnotes.txt\n../outside.png\npages/a.png\n"
    code, summary, out = run(["-", "-o", "out"], listed.encode())
    assert code == ExitCode.SOME_FAILED, out
    kinds = {f["path"]: f["kind"] for f in summary["failures"]}  # type: ignore[attr-defined]
    assert kinds == {
        str(outside): "outside_root",
        "missing.png": "not_found",
        "notes.txt": "not_an_image",
        "../outside.png": "outside_root",
    }
    assert summary["done"] == 1
    assert not (tmp_path / "out" / "outside.png").exists()


@pytest.mark.parametrize(
    "args",
    [["-", "pages"], ["-", "--files-from", "x"], ["-0", "pages"], []],
)
def test_usage_errors(here: Path, args: list[str]) -> None:
    code, _, out = run(args, b"pages/a.png\n")
    assert code == ExitCode.USAGE, out


def test_empty_list_is_no_input(here: Path) -> None:
    assert run(["-", "-o", "out"], b"\n")[0] == ExitCode.NO_INPUT


def test_find_print0_pipeline_as_in_the_readme(bare_cwd: Path) -> None:
    """`find pages -name '*.png' -print0 | imgtrans translate - -0 --to ko --tm ... -o out`"""
    shutil.copytree(REPO / "examples" / "pages", bare_cwd / "pages")
    tm = REPO / "examples" / "tm.tsv"
    command = (
        f"find pages -name '*.png' -print0 | {sys.executable} -m imgtrans translate - -0 "
        f"--to ko --tm {tm} -o out -j 1 --json"
    )
    proc = subprocess.run(
        command, shell=True, cwd=bare_cwd, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    pages = sorted(p.name for p in (bare_cwd / "pages").glob("*.png"))
    assert summary["done"] == len(pages) == 4
    assert sorted(p.name for p in (bare_cwd / "out" / "pages").glob("*.png")) == pages
    assert "translator: tm (auto: --tm given, no API backend configured)" in proc.stderr
