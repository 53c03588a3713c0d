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

import imgtrans as imgtrans_package
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
    """Every file under ``root`` but the run lock (one per output root)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != ".imgtrans.lock"
    }


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
    written = ["p.png", "p.clean.png", "p.imgtrans.json"]
    assert modes == dict.fromkeys(written, 0o666 & ~umask)


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


# 3. Hand edits are kept ----------------------------------------------------------------


def edit_translation(sidecar: Path, text: str) -> None:
    data = doc(sidecar)
    data["blocks"][0]["translation"] = text
    sidecar.write_text(json.dumps(data), "utf-8")  # ASCII with \\u escapes, as editors may


def test_a_sidecar_edited_by_hand_is_not_overwritten_by_a_rerun(tmp_path: Path, tm: Path) -> None:
    page(tmp_path / "in" / "p.png", "Hello")
    page(tmp_path / "in" / "q.png", "World")
    out = tmp_path / "out"
    assert run(tmp_path / "in", "--tm", tm, "-o", out)[0] == 0
    edit_translation(out / "p.imgtrans.json", "수정")
    rendered = runner.invoke(app, ["render", str(out)])
    assert rendered.exit_code == 0, rendered.output
    # Any changed option makes a rerun redo the pages; the edited one is kept, and said so.
    code, summary, output = run(tmp_path / "in", "--tm", tm, "-o", out, "--direction", "vertical")
    assert code == 0, output
    assert (summary["done"], summary["skipped"]) == (1, 1)
    [warning] = summary["warnings"]
    assert warning["path"] == "p.png"
    assert str(out / "p.imgtrans.json") in warning["message"]
    assert "edited" in warning["message"] and "--overwrite" in warning["message"]
    assert doc(out / "p.imgtrans.json")["blocks"][0]["translation"] == "수정"
    code, summary, _ = run(tmp_path / "in", "--tm", tm, "-o", out, "--overwrite")
    assert (code, summary["done"]) == (0, 2)
    assert doc(out / "p.imgtrans.json")["blocks"][0]["translation"] == "안녕"


# 12. A valid image without text is an ordinary page ------------------------------------


def test_images_without_text_pass_through(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", (1, 1), "white").save(src / "dot.png")
    Image.new("RGB", (200, 100), "white").save(src / "blank.png")
    ramp = np.linspace(0, 255, 160 * 120 * 3).reshape(120, 160, 3).astype(np.uint8)
    Image.fromarray(ramp).save(src / "photo.jpg")
    out = tmp_path / "out"
    code, summary, output = run(src, "-t", "none", "-o", out, "--format", "webp")
    assert code == 0, output
    assert summary["done"] == 3
    for name, size in (("dot", (1, 1)), ("blank", (200, 100)), ("photo", (160, 120))):
        data = doc(out / f"{name}.imgtrans.json")
        assert (data["status"], data["blocks"]) == ("ok", [])
        with Image.open(out / f"{name}.webp") as img:
            assert (img.format, img.size) == ("WEBP", size)
    ocr = runner.invoke(app, ["ocr", str(src / "dot.png"), "-o", str(tmp_path / "ocr")])
    assert ocr.exit_code == 0, ocr.output
    assert doc(tmp_path / "ocr" / "dot.imgtrans.json")["status"] == "ok"


# 8. Names that are not UTF-8, names near the length limit ------------------------------

REPO = Path(imgtrans_package.__file__).resolve().parent.parent  # the imgtrans under test


def imgtrans(*args: object, cwd: Path) -> tuple[int, dict, str]:
    """The CLI in its own process with a UTF-8 locale (stdout is strict about encoding)."""
    import subprocess
    import sys

    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONPATH": str(REPO)}
    env.pop("PYTHONIOENCODING", None)
    proc = subprocess.run(
        [sys.executable, "-m", "imgtrans", *map(str, args), "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=300,
    )
    out = proc.stdout.decode("utf-8").strip().splitlines()
    summary = json.loads(out[-1]) if out else {}
    return proc.returncode, summary, proc.stderr.decode("utf-8", "replace")


def test_names_that_are_not_utf8_work_end_to_end(tmp_path: Path, tm: Path) -> None:
    raw = b"caf\xe9 \xff.png"  # Latin-1 bytes: not UTF-8
    name = os.fsdecode(raw)
    src, out = tmp_path / "in", tmp_path / "out"
    page(src / name, "Hello")
    code, summary, err = imgtrans(
        "translate", src, "--to", "ko", "--tm", tm, "-o", out, cwd=tmp_path
    )
    assert (code, summary["done"]) == (0, 1), err
    sidecar = out / os.fsdecode(b"caf\xe9 \xff.imgtrans.json")
    data = json.loads(sidecar.read_bytes().decode("utf-8"))  # valid UTF-8 on disk
    assert os.fsencode(data["source"]["path"]) == raw
    assert os.fsencode(data["output"]["path"]) == raw
    assert data["blocks"][0]["translation"] == "안녕"
    edit_translation(sidecar, "세계")
    code, summary, err = imgtrans("render", out, cwd=tmp_path)
    assert (code, summary["done"]) == (0, 1), err
    code, summary, err = imgtrans("ocr", src, "-o", tmp_path / "ocr", cwd=tmp_path)
    assert (code, summary["done"]) == (0, 1), err
    assert (tmp_path / "ocr" / os.fsdecode(b"caf\xe9 \xff.imgtrans.json")).is_file()


def test_names_near_the_length_limit(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    fits, too_long = "a" * 226 + ".png", "b" * 248 + ".png"  # 230 and 252 bytes
    for name in (fits, too_long):
        save(draw(100, 60, []), src / name)
    code, summary, output = run(src, "-t", "none", "-o", out, "--keep-clean")
    assert code == ExitCode.SOME_FAILED, output
    assert summary["done"] == 1
    assert (out / fits).is_file() and (out / ("a" * 226 + ".imgtrans.json")).is_file()
    [failure] = summary["failures"]
    assert (failure["path"], failure["kind"]) == (too_long, "name_too_long")
    assert "255 bytes" in failure["message"]


# 10. The rerun fingerprint ---------------------------------------------------------------


def options(**kw: object):  # type: ignore[no-untyped-def]
    from imgtrans.api import build_options

    base: dict[str, object] = dict(
        to="ko", source="auto", translator="openai", tm=None, output=None, fmt="same",
        overwrite=False, batch_size=4, jobs=1, device="cpu", fail_fast=False,
        max_pixels=400_000_000, keep_clean=False, wait=False, prune=False, inpainter="opencv",
        compile_model=False, api_base=None, model="m", glossary=None, context_pages=0,
        cache=True, system_prompt=None, fonts=(), direction="auto",
    )  # fmt: skip
    return build_options(**{**base, **kw})


@pytest.mark.parametrize("option", ["glossary", "system_prompt", "fonts"])
def test_files_count_by_their_contents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    from drawing import FONT_JA

    monkeypatch.chdir(tmp_path)
    data = FONT_JA.read_bytes() if option == "fonts" else b"X\tY\n"
    (tmp_path / "f").write_bytes(data)
    shutil.copy(tmp_path / "f", tmp_path / "copy")

    def fingerprint(path: Path) -> str:
        value = (path,) if option == "fonts" else path
        return str(options(**{option: value}).fingerprint())

    same = fingerprint(Path("f"))
    assert fingerprint(tmp_path / "f") == same  # relative or absolute: one file
    assert fingerprint(tmp_path / "copy") == same  # the contents count, not the name
    (tmp_path / "f").write_bytes(data + b"\n#")
    assert fingerprint(Path("f")) != same  # an edited file is noticed


def test_an_api_base_with_or_without_a_trailing_slash_is_one_endpoint() -> None:
    with_slash = options(api_base="http://127.0.0.1:1/v1/").fingerprint()
    assert options(api_base="http://127.0.0.1:1/v1").fingerprint() == with_slash
    assert options(api_base="http://127.0.0.1:1/v2").fingerprint() != with_slash


def test_an_edited_glossary_redoes_the_pages_and_a_relative_path_does_not(
    tmp_path: Path, tm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    page(tmp_path / "in" / "p.png", "Hello")
    (tmp_path / "terms.tsv").write_text("Tim\t팀\n", "utf-8")
    args = ("in", "--tm", tm, "-o", "out")
    assert run(*args, "--glossary", "terms.tsv")[1]["done"] == 1
    assert run(*args, "--glossary", tmp_path / "terms.tsv")[1]["skipped"] == 1
    (tmp_path / "terms.tsv").write_text("Tim\t티ム\n", "utf-8")
    assert run(*args, "--glossary", "terms.tsv")[1]["done"] == 1


# 13. Smaller faults --------------------------------------------------------------------


@pytest.mark.parametrize("to", ["kr", "xx", "auto"])
@pytest.mark.parametrize("translator", ["none", "tm"])
def test_unknown_target_languages_are_refused_for_every_translator(
    tmp_path: Path, tm: Path, to: str, translator: str
) -> None:
    page(tmp_path / "in" / "p.png", "Hello")
    argv = ["translate", str(tmp_path / "in"), "--to", to, "-t", translator, "--tm", str(tm)]
    result = runner.invoke(app, argv)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "not a language code" in result.output
    assert ("did you mean ko" in result.output) == (to == "kr")
    assert not (tmp_path / f"in_{to}").exists()


@pytest.mark.parametrize("glossary", ["missing", "malformed"])
@pytest.mark.parametrize("translator", ["none", "tm"])
def test_a_bad_glossary_is_an_error_for_every_translator(
    tmp_path: Path, tm: Path, glossary: str, translator: str
) -> None:
    page(tmp_path / "in" / "p.png", "Hello")
    path = tmp_path / "terms.tsv"
    if glossary == "malformed":
        path.write_text("a line without a tab\n", "utf-8")
    code, summary, output = run(
        tmp_path / "in", "-t", translator, "--tm", tm, "--glossary", path, "-o", tmp_path / "o"
    )
    assert code == ExitCode.TRANSLATOR, output
    assert "terms.tsv" in output
    assert summary["exit_code"] == ExitCode.TRANSLATOR  # --json says it on this exit too


def test_translation_memory_duplicates_warn_and_extra_columns_fail(tmp_path: Path) -> None:
    page(tmp_path / "in" / "p.png", "Hello")
    memory = tmp_path / "tm.tsv"
    memory.write_text("Hello\t안녕\nWorld\t세계\nHello\t여보세요\n", "utf-8")
    code, _, output = run(tmp_path / "in", "--tm", memory, "-o", tmp_path / "o")
    assert code == 0, output
    assert "tm.tsv:3" in output and "line 1" in output and "line 3 wins" in output
    assert doc(tmp_path / "o" / "p.imgtrans.json")["blocks"][0]["translation"] == "여보세요"
    memory.write_text("Hello\t안녕\nWorld\t세계\tnote\n", "utf-8")
    code, _, output = run(tmp_path / "in", "--tm", memory, "-o", tmp_path / "o2")
    assert code == ExitCode.TRANSLATOR, output
    assert "tm.tsv:2: 3 columns" in " ".join(output.split())


def test_control_characters_in_a_translation_are_not_drawn(tmp_path: Path) -> None:
    page(tmp_path / "in" / "p.png", "Hello")
    memory = tmp_path / "tm.tsv"
    memory.write_text("Hello\t안\x00녕\x1b\n", "utf-8")
    code, _, output = run(tmp_path / "in", "--tm", memory, "-o", tmp_path / "o")
    assert code == 0, output
    [block] = doc(tmp_path / "o" / "p.imgtrans.json")["blocks"]
    assert block["translation"] == "안녕"
    assert "".join(block["render"]["lines"]) == "안녕"


def test_json_summary_on_an_interrupt_and_paths_relative_to_the_input(
    tmp_path: Path, tm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgtrans.pipeline as pipeline_module

    src = tmp_path / "in"
    page(src / "a" / "p.png", "Hello")
    page(src / "a" / "p.jpg", "Hello")  # the same output as p.png: output_clash
    real = pipeline_module.Pipeline._finish

    def interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline_module.Pipeline, "_finish", interrupted)
    code, summary, output = run(src, "--tm", tm, "-o", tmp_path / "o")
    assert code == ExitCode.INTERRUPTED, output
    assert summary["exit_code"] == ExitCode.INTERRUPTED
    assert [(f["path"], f["kind"]) for f in summary["failures"]] == [("a/p.png", "output_clash")]
    monkeypatch.setattr(pipeline_module.Pipeline, "_finish", real)


# 14. One run at a time per output folder ---------------------------------------------------


def test_a_second_run_on_the_same_output_exits_or_waits(tmp_path: Path, tm: Path) -> None:
    """Another process holds the output folder's lock, as a run still going would."""
    import subprocess
    import sys
    import textwrap

    page(tmp_path / "in" / "p.png", "Hello")
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from imgtrans.lock import output_locks
            with output_locks([Path({str(out)!r})]):
                print("locked", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        code, summary, err = imgtrans(
            "translate", tmp_path / "in", "--to", "ko", "--tm", tm, "-o", out, cwd=tmp_path
        )
        assert code == ExitCode.LOCKED == 8, err
        assert "another imgtrans run" in err and "--wait" in err
        assert not (out / "p.png").exists()
        env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONPATH": str(REPO)}
        waiter = subprocess.Popen(
            [sys.executable, "-m", "imgtrans", "translate", str(tmp_path / "in"), "--to", "ko",
             "--tm", str(tm), "-o", str(out), "--wait", "-j", "1", "-q"],
            stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert waiter.stderr is not None
        said = ""
        for line in waiter.stderr:  # up to the warning (or the end, if it never comes)
            said += line
            if "waiting" in line:
                break
        assert "waiting for the other imgtrans run" in said
        assert not (out / "p.png").exists()
        holder.communicate("go\n", timeout=60)
        _, rest = waiter.communicate(timeout=300)
        assert waiter.returncode == 0, said + rest
        assert doc(out / "p.imgtrans.json")["status"] == "ok"
    finally:
        holder.kill()


def test_prune_removes_what_deleted_inputs_and_an_earlier_format_left(
    tmp_path: Path, tm: Path
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for name, word in (("p", "Hello"), ("gone", "World"), ("edited", "Hello")):
        page(src / f"{name}.png", word)
    assert run(src, "--tm", tm, "-o", out)[0] == 0
    (src / "gone.png").unlink()
    (src / "edited.png").unlink()
    edit_translation(out / "edited.imgtrans.json", "수정")
    (out / "notes.txt").write_text("mine", "utf-8")  # named by no sidecar: never touched
    code, summary, output = run(src, "--tm", tm, "-o", out)
    assert (code, summary["skipped"]) == (0, 1), output
    assert (out / "gone.png").is_file()  # stale outputs stay unless --prune
    code, summary, output = run(src, "--tm", tm, "-o", out, "--format", "webp", "--prune")
    assert (code, summary["done"], summary["pruned"]) == (0, 1, 3), output
    assert sorted(p.name for p in out.iterdir() if p.name != ".imgtrans.lock") == [
        "edited.imgtrans.json",
        "edited.png",
        "notes.txt",
        "p.imgtrans.json",
        "p.webp",
    ]
    assert any("edited by hand" in w["message"] for w in summary["warnings"])


def test_a_file_already_in_an_output_folder_inside_the_input_is_not_overwritten(
    tmp_path: Path, tm: Path
) -> None:
    """``translate d -o d/sub``: ``d/p.png`` maps onto the user's own ``d/sub/p.png``."""
    d = tmp_path / "d"
    page(d / "p.png", "Hello")
    page(d / "x.png", "World")
    own = page(d / "sub" / "p.png", "World").read_bytes()
    code, summary, output = run(d, "--tm", tm, "-o", d / "sub")
    assert code == ExitCode.SOME_FAILED, output
    assert (d / "sub" / "p.png").read_bytes() == own
    assert {f["path"]: f["kind"] for f in summary["failures"]} == {"p.png": "output_path"}
    assert summary["done"] == 1
    code, summary, _ = run(d, "--tm", tm, "-o", d / "sub")  # its own outputs are no obstacle
    assert (summary["skipped"], summary["failed"]) == (1, 1)
    assert (d / "sub" / "p.png").read_bytes() == own
