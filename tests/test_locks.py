"""Output locks: nested output folders exclude each other, siblings do not; `render` and
the comic archive's `.cbz` are covered too. (One run on the same folder: see
test_reliability_files.py, test 14.)"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from typer.testing import CliRunner

from imgtrans import archive
from imgtrans.cli import app
from imgtrans.errors import ExitCode, OutputLocked
from imgtrans.lock import output_locks

runner = CliRunner()


def test_nested_output_folders_exclude_each_other(tmp_path: Path) -> None:
    out, inner, sibling = tmp_path / "out", tmp_path / "out" / "a", tmp_path / "out" / "b"
    with output_locks([inner]):
        with pytest.raises(OutputLocked, match="or a folder inside it"), output_locks([out]):
            pass
        with pytest.raises(OutputLocked, match="another imgtrans run"), output_locks([inner]):
            pass
        with output_locks([sibling]):  # out/a and out/b: no conflict
            pass
    deeper = [inner / "deeper"]
    held = output_locks([out])
    with held, pytest.raises(OutputLocked, match=r"out, which holds"), output_locks(deeper):
        pass
    with output_locks([out]), output_locks([tmp_path / "other"]):
        pass  # all released: they can be taken again


def pages(src: Path) -> None:
    for name, word in (("p", "Hello"), ("q", "Thank you")):
        save(draw(420, 140, [Text(word, (40, 40), 48, font=FONT_KO)]), src / f"{name}.png")


def cli(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, [*map(str, args), "-q"])
    return result.exit_code, result.output


def test_translate_into_a_folder_inside_one_being_written_exits_8(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    pages(src)
    tm = tmp_path / "tm.tsv"
    tm.write_text("Hello\t안녕\n", "utf-8")
    with output_locks([out.resolve()]):
        code, output = cli("translate", src, "--to", "ko", "--tm", tm, "-o", out / "ko", "-j", "1")
        assert code == ExitCode.LOCKED, output
        assert not (out / "ko").exists()
    code, output = cli("translate", src, "--to", "ko", "--tm", tm, "-o", out / "ko", "-j", "1")
    assert code == 0, output
    # render rewrites the output folder: it waits its turn like translate
    with output_locks([out.resolve()]):
        code, output = cli("render", out / "ko", "-j", "1")
        assert code == ExitCode.LOCKED, output
    code, output = cli("render", out / "ko", "-j", "1", "--json")
    assert code == 0 and json.loads(output.strip().splitlines()[-1])["done"] == 2, output


def test_the_cbz_is_built_while_the_output_is_still_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    pages(tmp_path / "pages")
    src.mkdir()
    with zipfile.ZipFile(src / "book.cbz", "w") as zf:
        for name in ("p.png", "q.png"):
            zf.write(tmp_path / "pages" / name, name)
    tm = tmp_path / "tm.tsv"
    tm.write_text("Hello\t안녕\n", "utf-8")
    locked_while_building: list[bool] = []
    real = archive.assemble

    def assemble(plan: archive.ArchivePlan, base: Path) -> str | None:
        try:
            with output_locks([out.resolve()]):
                locked_while_building.append(False)
        except OutputLocked:
            locked_while_building.append(True)
        return real(plan, base)

    monkeypatch.setattr(archive, "assemble", assemble)
    code, output = cli("translate", src, "--to", "ko", "--tm", tm, "-o", out)
    assert locked_while_building == [True], output
    assert zipfile.ZipFile(out / "book.cbz").namelist() == ["p.png", "q.png"]
