"""Bad and odd inputs in one unattended batch: each file gets its own outcome (a failed
sidecar with a named kind, or ok), the batch goes on, and the exit code says "some failed".

Every file is generated here. One CLI run over the whole tree (module fixture) keeps this
fast; the tall strip is 300x6000 (not the 690x19332 of the issue) for the same reason.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_KO, Text, draw, save
from PIL import Image
from typer.testing import CliRunner
from unprivileged import run_cli

from imgtrans.cli import app
from imgtrans.errors import ExitCode
from imgtrans.sidecar import validate
from imgtrans.stages.preprocess import load_page

runner = CliRunner()
MAX_PIXELS = 2_000_000
RNG = np.random.default_rng(7)


def noise(h: int, w: int) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def with_orientation(pixels: np.ndarray, orientation: int) -> bytes:
    img = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encoded(img, "JPEG", quality=95, exif=exif)


def oriented(stored: np.ndarray, orientation: int) -> np.ndarray:
    """What a viewer shows for stored pixels and an EXIF orientation (TIFF/EXIF spec)."""
    return {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, 1),
    }[orientation](stored)


def frames(fmt: str) -> bytes:
    imgs = [Image.fromarray(noise(60, 80)) for _ in range(3)]
    return encoded(imgs[0], fmt, save_all=True, append_images=imgs[1:], duration=100, loop=0)


def palette_with_transparency() -> bytes:
    img = Image.new("P", (80, 60), 0)
    img.putpalette([255, 255, 255, 200, 30, 30] + [0] * 762)
    img.paste(1, (20, 10, 60, 50))
    return encoded(img, "PNG", transparency=0)


# name -> bytes of the file
def inputs() -> dict[str, bytes]:
    good = encoded(
        Image.fromarray(draw(420, 140, [Text("Hello", (40, 40), 48, font=FONT_KO)])), "PNG"
    )
    jpeg = encoded(Image.fromarray(noise(120, 200)), "JPEG", quality=90)
    png = encoded(Image.fromarray(noise(120, 200)), "PNG")
    files = {
        "good.png": good,
        "empty.png": b"",
        "trunc_jpeg.jpg": jpeg[: len(jpeg) * 6 // 10],
        "trunc_png.png": png[: len(png) * 6 // 10],
        "text_named.png": b"this is a shopping list, not a picture\n" * 10,
        "one_pixel.png": encoded(Image.new("RGB", (1, 1), "white"), "PNG"),
        "bomb.png": encoded(Image.new("L", (1500, 1500), 255), "PNG"),
        "deep16.png": encoded(
            Image.fromarray(RNG.integers(0, 65535, (60, 80), dtype=np.uint16)), "PNG"
        ),
        "cmyk.jpg": encoded(Image.fromarray(noise(60, 80)).convert("CMYK"), "JPEG"),
        "palette_alpha.png": palette_with_transparency(),
        "anim_gif.gif": frames("GIF"),
        "anim_webp.webp": frames("WEBP"),
        "gray.png": encoded(Image.new("L", (80, 60), 128), "PNG"),
        "strip.png": encoded(Image.new("RGB", (300, 6000), "white"), "PNG"),
        "名前 with space.png": good,
        "twin.png": encoded(Image.new("RGB", (80, 60), "white"), "PNG"),
        "twin.jpg": encoded(Image.new("RGB", (80, 60), "white"), "JPEG"),
        "stale_binary.png": encoded(Image.new("RGB", (80, 60), "white"), "PNG"),
        "stale_json.png": encoded(Image.new("RGB", (80, 60), "white"), "PNG"),
    }
    for o in range(2, 9):
        files[f"exif{o}.jpg"] = with_orientation(noise(40, 60), o)
    return files


# name -> (status, error kind) as the sidecar must say it
EXPECTED: dict[str, tuple[str, str | None]] = {
    "good.png": ("ok", None),
    "empty.png": ("failed", "empty"),
    "trunc_jpeg.jpg": ("failed", "truncated"),
    "trunc_png.png": ("failed", "truncated"),
    "text_named.png": ("failed", "not_an_image"),
    "one_pixel.png": ("ok", None),  # a valid image with no text passes through
    "bomb.png": ("failed", "too_large"),
    "deep16.png": ("ok", None),
    "cmyk.jpg": ("ok", None),
    "palette_alpha.png": ("ok", None),
    "anim_gif.gif": ("ok", None),
    "anim_webp.webp": ("ok", None),
    "gray.png": ("ok", None),
    "strip.png": ("ok", None),
    "名前 with space.png": ("ok", None),
    "twin.jpg": ("ok", None),
    "stale_binary.png": ("ok", None),
    "stale_json.png": ("ok", None),
    **{f"exif{o}.jpg": ("ok", None) for o in range(2, 9)},
}
# Problems that have no sidecar of their own: only the run summary can carry them.
SUMMARY_ONLY = {
    "twin.png": "output_clash",
    "loop": "symlink_loop",
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, str]:
    root = tmp_path_factory.mktemp("bad")
    src, other, out = root / "in", root / "other", root / "out" / "in"
    for name, data in inputs().items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    (src / "sub").mkdir()
    (src / "sub" / "loop").symlink_to(src, target_is_directory=True)
    save(draw(100, 60, []), other / "good.png")  # two inputs under one -o: out/other/good.png
    out.mkdir(parents=True)
    (out / "stale_binary.imgtrans.json").write_bytes(b"\xff\xfe\x00garbage\x80")
    (out / "stale_json.imgtrans.json").write_text('{"schema_version": 1, "status": "o', "utf-8")
    (out / "stale_json.png").write_bytes(b"old output")
    tm = root / "tm.tsv"
    tm.write_text("Hello\t안녕\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["translate", str(src), str(other), "--to", "ko", "--tm", str(tm), "-o", str(out.parent)]
        + ["-j", "1", "--json", "--max-pixels", str(MAX_PIXELS)],
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == ExitCode.SOME_FAILED, result.output
    return src, out, summary, result.output


def sidecar_of(out: Path, name: str) -> dict:
    return json.loads((out / Path(name).with_suffix(".imgtrans.json")).read_text("utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_input_gets_its_own_outcome(batch: tuple, name: str) -> None:
    _, out, summary, _ = batch
    status, kind = EXPECTED[name]
    doc = sidecar_of(out, name)
    validate(doc)
    assert doc["status"] == status, doc["error"]
    if kind is None:
        assert doc["error"] is None
        out_image = out / doc["output"]["path"]
        with Image.open(out_image) as img:
            img.load()
            assert img.size == (doc["source"]["width"], doc["source"]["height"])
    else:
        assert doc["error"]["kind"] == kind, doc["error"]
        assert name in doc["error"]["message"]
        assert not (out / name).exists()  # no output image for a failed page
        assert {"path": name, "kind": kind, "message": doc["error"]["message"]} in summary[
            "failures"
        ]


@pytest.mark.parametrize("name", sorted(SUMMARY_ONLY))
def test_problems_without_a_sidecar_are_in_the_summary(batch: tuple, name: str) -> None:
    src, _, summary, _ = batch
    kinds = {Path(f["path"]).name: f["kind"] for f in summary["failures"]}
    assert kinds[Path(name).name] == SUMMARY_ONLY[name]
    assert not Path(name).is_absolute()  # relative to its input root


def test_several_inputs_are_mirrored_under_their_own_names(batch: tuple) -> None:
    _, out, _, _ = batch
    other = out.parent / "other"
    assert json.loads((other / "good.imgtrans.json").read_text("utf-8"))["status"] == "ok"
    assert (other / "good.png").is_file()


def test_the_batch_went_on_and_counts_add_up(batch: tuple) -> None:
    _, out, summary, _ = batch
    failed = sum(1 for s, _ in EXPECTED.values() if s == "failed") + len(SUMMARY_ONLY)
    assert summary["failed"] == failed
    assert summary["done"] == sum(1 for s, _ in EXPECTED.values() if s == "ok") + 1  # other/
    assert summary["total"] == summary["done"] + summary["failed"]
    assert sidecar_of(out, "good.png")["blocks"][0]["translation"] == "안녕"
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def test_odd_formats_are_normalised(batch: tuple) -> None:
    _, out, _, _ = batch
    for name in ("anim_gif.gif", "anim_webp.webp"):
        assert any("animated (3 frames)" in n for n in sidecar_of(out, name)["notes"])
    assert (out / "anim_gif.png").is_file()  # GIF in, PNG out
    with Image.open(out / "palette_alpha.png") as img:  # transparency kept
        assert img.mode == "RGBA" and img.getchannel("A").getextrema() == (0, 255)
    strip = sidecar_of(out, "strip.png")
    assert (strip["source"]["width"], strip["source"]["height"]) == (300, 6000)


def test_corrupt_sidecars_of_an_earlier_run_are_treated_as_absent_and_reported(
    batch: tuple,
) -> None:
    _, out, summary, output = batch
    for name, why in (("stale_binary.png", "not UTF-8"), ("stale_json.png", "not valid JSON")):
        doc = sidecar_of(out, name)
        assert doc["status"] == "ok"
        assert any(why in note for note in doc["notes"])
        assert any(w["path"] == name and why in w["message"] for w in summary["warnings"])
    assert "treated as absent" in output  # and in the log


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_gives_the_displayed_pixels(tmp_path: Path, orientation: int) -> None:
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(with_orientation(noise(40, 60), orientation))
    with Image.open(path) as img:
        stored = np.asarray(img.convert("RGB"))  # as decoded, before orientation
    page = load_page(path, path.name, MAX_PIXELS)
    np.testing.assert_array_equal(page.image, oriented(stored, orientation))


def test_exif_orientation_through_the_batch(batch: tuple) -> None:
    _, out, _, _ = batch
    for o in range(2, 9):
        doc = sidecar_of(out, f"exif{o}.jpg")
        size = (doc["source"]["width"], doc["source"]["height"])
        assert size == ((40, 60) if o >= 5 else (60, 40)), o


def test_fail_fast_stops_at_the_first_failure(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a_broken.png").write_bytes(b"not an image")
    for name in ("b.png", "c.png"):
        save(draw(100, 60, []), src / name)
    result = runner.invoke(
        app,
        ["translate", str(src), "--to", "ko", "-t", "none", "-o", str(tmp_path / "o")]
        + ["-j", "1", "--batch-size", "1", "--fail-fast"],
    )
    assert result.exit_code == ExitCode.SOME_FAILED, result.output
    assert "--fail-fast" in result.output
    assert sidecar_of(tmp_path / "o", "a_broken.png")["error"]["kind"] == "not_an_image"
    assert not (tmp_path / "o" / "c.imgtrans.json").exists()


@pytest.mark.parametrize("full", ["image", "everything"])
def test_disk_full_while_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: str
) -> None:
    """ENOSPC half-way through a write: that page fails (``disk_full``) with no temp file
    left; when not even the failed sidecar fits, the summary still names the page."""
    import errno

    import imgtrans.sidecar as sidecar_module

    real = sidecar_module.write_all

    def filling(fh, data: bytes, chunk: int = 1 << 20) -> None:  # type: ignore[no-untyped-def]
        if full == "everything" or data.startswith(b"\x89PNG"):
            real(fh, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fh, data, chunk)

    monkeypatch.setattr(sidecar_module, "write_all", filling)
    src, out = tmp_path / "in", tmp_path / "out"
    for name in ("a.png", "b.png"):
        save(draw(100, 60, []), src / name)
    result = runner.invoke(
        app,
        ["translate", str(src), "--to", "ko", "-t", "none", "-o", str(out), "-j", "1", "--json"],
    )
    assert result.exit_code == ExitCode.SOME_FAILED, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [f["kind"] for f in summary["failures"]] == ["disk_full", "disk_full"]
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    assert not list(out.glob("*.png"))
    if full == "image":
        assert sidecar_of(out, "a.png")["error"]["kind"] == "disk_full"
    else:
        assert not list(out.glob("*.imgtrans.json"))


@pytest.mark.slow
def test_unreadable_file_fails_alone(tmp_path: Path) -> None:
    """chmod 000. Root reads anything, so the CLI runs without root's permission bypass."""
    src, out = tmp_path / "in", tmp_path / "out"
    for name in ("locked.png", "open.png"):
        save(draw(100, 60, []), src / name)
    (src / "locked.png").chmod(0o000)
    args = ["translate", str(src), "--to", "ko", "-t", "none", "-o", str(out), "-j", "1"]
    code, output = run_cli(args, cwd=tmp_path)
    assert code == ExitCode.SOME_FAILED, output
    doc = sidecar_of(out, "locked.png")
    assert doc["status"] == "failed" and doc["error"]["kind"] == "unreadable"
    assert "permission denied" in doc["error"]["message"]
    assert sidecar_of(out, "open.png")["status"] == "ok"
