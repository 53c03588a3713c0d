"""Optional OCR recognisers: registry, fetch over loopback, and Korean through the whole run.

No real model file is downloaded: a stand-in built from the shipped recogniser (see
standin_ocr.py) with a Hangul dictionary in its ONNX metadata is served from 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from drawing import FONT_JA, FONT_KO, Text, draw
from PIL import Image
from standin_ocr import FileServer, build_standin_rec, cipher_for, encode
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import MissingModelError
from imgtrans.models import ocr_registry
from imgtrans.models.ppocr import ocr_model_paths, rec_charset
from imgtrans.ocr import script_models
from imgtrans.options import OcrOptions
from imgtrans.page import Page
from imgtrans.stages.ocr import OcrEngine, make_backend

KOREAN = ["안녕하세요", "고마워요", "오늘은", "날씨가좋네"]
KOREAN_LABEL = "korean_PP-OCRv5_rec_mobile"
runner = CliRunner()


@pytest.fixture(scope="module")
def cipher() -> dict[str, str]:
    return cipher_for(KOREAN)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory, cipher: dict[str, str]) -> Path:
    """The stand-in Korean model, as a host would serve it."""
    folder = tmp_path_factory.mktemp("host")
    return build_standin_rec(cipher, folder / "korean_PP-OCRv5_rec_mobile.onnx")


@pytest.fixture
def weights_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "weights"
    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(folder))
    return folder


@pytest.fixture
def korean_spec(standin: Path, monkeypatch: pytest.MonkeyPatch) -> ocr_registry.RecModel:
    """The registry entry for ocr-korean, with the stand-in's checksum instead of the real one."""
    model = ocr_registry.REGISTRY["ocr-korean"]
    digest = hashlib.sha256(standin.read_bytes()).hexdigest()
    patched = replace(model, spec=replace(model.spec, sha256=digest))
    monkeypatch.setitem(ocr_registry.REGISTRY, "ocr-korean", patched)
    return patched


@pytest.fixture
def installed(
    korean_spec: ocr_registry.RecModel, standin: Path, weights_env: Path
) -> ocr_registry.RecModel:
    """The stand-in fetched through the CLI into the weights folder."""
    with FileServer(standin.parent) as host:
        url = f"{host.base}/{standin.name}"
        result = runner.invoke(app, ["models", "fetch", "ocr-korean", "--url", url])
    assert result.exit_code == 0, result.output
    return korean_spec


def korean_page(cipher: dict[str, str]) -> np.ndarray:
    """A page with two one-line balloons and one of two lines (the cipher of KOREAN)."""
    return draw(
        900,
        520,
        [
            Text(encode(KOREAN[0], cipher), (40, 40), 40, font=FONT_KO),
            Text(encode(KOREAN[1], cipher), (520, 40), 40, font=FONT_KO),
            Text(encode(KOREAN[2], cipher), (60, 300), 40, font=FONT_KO),
            Text(encode(KOREAN[3], cipher), (60, 352), 40, font=FONT_KO),
        ],
    )


def write_png(image: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def read_sidecar(folder: Path) -> dict:  # type: ignore[type-arg]
    [path] = folder.rglob("*.imgtrans.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_registry_matches_the_rapidocr_wheel() -> None:
    """Every entry's URL and SHA256 are the ones the installed rapidocr wheel lists."""
    import rapidocr

    table = Path(rapidocr.__file__).parent / "default_models.yaml"
    listed = {
        key: entry
        for version in yaml.safe_load(table.read_text(encoding="utf-8"))["onnxruntime"].values()
        for key, entry in version.get("rec", {}).items()
    }
    assert len(ocr_registry.REGISTRY) >= 4
    for model in ocr_registry.REGISTRY.values():
        entry = listed[model.key]
        assert model.spec.url == entry["model_dir"], model.name
        assert model.spec.sha256 == entry["SHA256"], model.name
        assert model.spec.filename == Path(entry["model_dir"]).name


def test_from_ko_without_the_model_exits_5_naming_the_fetch_command(
    tmp_path: Path, weights_env: Path
) -> None:
    src = write_png(
        draw(300, 100, [Text("ABC", (10, 10), 40, font=FONT_KO)]), tmp_path / "in/a.png"
    )
    result = runner.invoke(app, ["ocr", str(src), "-o", str(tmp_path / "out"), "--from", "ko"])
    assert result.exit_code == 5, result.output
    assert "imgtrans models fetch ocr-korean" in result.output
    assert "Hangul" in result.output


def test_charset_comes_from_the_model_file(standin: Path, cipher: dict[str, str]) -> None:
    charset = rec_charset(standin)
    assert charset == ["", *cipher, " "]
    assert len(charset) != len(rec_charset(ocr_model_paths()["rec"]))


def test_fetch_checks_the_checksum_and_lists_the_model(
    korean_spec: ocr_registry.RecModel, standin: Path, weights_env: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad" / standin.name
    bad.parent.mkdir()
    bad.write_bytes(standin.read_bytes()[:-1] + b"\x00")
    with FileServer(bad.parent) as host:
        result = runner.invoke(
            app, ["models", "fetch", "ocr-korean", "--url", f"{host.base}/{bad.name}"]
        )
    assert result.exit_code == 5, result.output
    assert "expected" in result.output
    assert not (weights_env / standin.name).exists()
    with FileServer(standin.parent) as host:
        url = f"{host.base}/{standin.name}"
        result = runner.invoke(app, ["models", "fetch", "ocr-korean", "--url", url])
    assert result.exit_code == 0, result.output
    assert (weights_env / standin.name).read_bytes() == standin.read_bytes()
    listed = runner.invoke(app, ["models", "list"]).output
    row = next(line for line in listed.splitlines() if line.startswith("ocr-korean\t"))
    assert row.split("\t")[1] == "verified"
    assert "--from ko" in row
    assert runner.invoke(app, ["models", "verify", "ocr-korean"]).exit_code == 0


def test_ocr_from_ko_reads_hangul_with_the_fetched_model(
    installed: ocr_registry.RecModel, cipher: dict[str, str], tmp_path: Path
) -> None:
    src = write_png(korean_page(cipher), tmp_path / "in" / "page.png")
    out = tmp_path / "out"
    result = runner.invoke(app, ["ocr", str(src), "-o", str(out), "--from", "ko", "-j", "1"])
    assert result.exit_code == 0, result.output
    doc = read_sidecar(out)
    assert doc["source_lang"] == "ko"
    texts = sorted(b["text"] for b in doc["blocks"])
    assert texts == sorted(["안녕하세요", "고마워요", "오늘은 날씨가좋네"])
    assert {b["rec_model"] for b in doc["blocks"]} == {KOREAN_LABEL}
    assert all(ln["rec_model"] == KOREAN_LABEL for b in doc["blocks"] for ln in b["lines"])
    digest = installed.spec.sha256
    assert doc["run"]["models"][f"{KOREAN_LABEL}.onnx"] == digest


def test_auto_rereads_only_the_lines_the_korean_model_reads_better(
    installed: ocr_registry.RecModel, cipher: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both models read the cipher's Latin letters confidently, so the confidence gate is
    # opened here: every line is reread and the better reading must win line by line.
    monkeypatch.setattr(script_models, "REREAD_BELOW", 1.01)
    image = korean_page(cipher)
    image[300:360, 480:880] = draw(400, 60, [Text("今日はいい天気だね", (4, 4), 40, font=FONT_JA)])
    engine = OcrEngine(OcrOptions(), make_backend("cpu", threads=1), batch_size=2)
    [page] = engine([Page(Path("p.png"), "p.png", "0" * 64, image)])
    by_model = {b.text: {ln.rec_model for ln in b.lines} for b in page.blocks}
    assert by_model["今日はいい天気だね"] == {"PP-OCRv6_rec_small"}
    for text in ("안녕하세요", "고마워요", "오늘은 날씨가좋네"):
        assert by_model[text] == {KOREAN_LABEL}
    assert page.source_lang == "ko"


def test_auto_leaves_confident_lines_to_the_shipped_model(
    installed: ocr_registry.RecModel, cipher: dict[str, str]
) -> None:
    engine = OcrEngine(OcrOptions(), make_backend("cpu", threads=1), batch_size=2)
    assert [r.label for r in engine.extras] == [KOREAN_LABEL]
    [page] = engine([Page(Path("p.png"), "p.png", "0" * 64, korean_page(cipher))])
    lines = [ln for b in page.blocks for ln in b.lines]
    assert all(ln.confidence >= script_models.REREAD_BELOW for ln in lines)
    assert {ln.rec_model for ln in lines} == {"PP-OCRv6_rec_small"}


def test_auto_without_the_korean_model_reads_with_the_shipped_one(
    weights_env: Path, cipher: dict[str, str]
) -> None:
    engine = OcrEngine(OcrOptions(), make_backend("cpu", threads=1), batch_size=2)
    assert engine.extras == []
    [page] = engine([Page(Path("p.png"), "p.png", "0" * 64, korean_page(cipher))])
    assert {ln.rec_model for b in page.blocks for ln in b.lines} == {"PP-OCRv6_rec_small"}
    assert page.source_lang == "en"  # the cipher letters, read as what they are


def test_torch_backend_reads_with_the_extra_model_too(
    standin: Path, cipher: dict[str, str]
) -> None:
    """The CUDA code path (the ONNX graph run by torch), here on the CPU: same Hangul."""
    import torch

    from imgtrans.models.ppocr_onnx import OnnxRec
    from imgtrans.models.ppocr_torch import TorchRec
    from imgtrans.ocr.recognize import recognise

    words = KOREAN[:2]  # eager torch on a CPU is slow: two short crops, one batch
    crops = [draw(300, 56, [Text(encode(k, cipher), (6, 4), 40, font=FONT_KO)]) for k in words]
    charset = rec_charset(standin)
    on_torch = recognise(crops, TorchRec(standin, torch.device("cpu")).rec_best, charset, 4)
    on_onnx = recognise(crops, OnnxRec(standin).rec_best, charset, 4)
    assert [t for t, _ in on_torch] == [t for t, _ in on_onnx] == words


def test_translate_from_ko_erases_and_letters_like_any_source(
    installed: ocr_registry.RecModel, cipher: dict[str, str], tmp_path: Path
) -> None:
    src = write_png(korean_page(cipher), tmp_path / "in" / "page.png")
    tm = tmp_path / "tm.tsv"
    tm.write_text(
        "안녕하세요\tHello\n고마워요\tThanks\n오늘은 날씨가좋네\tNice weather today\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["translate", str(src), "--from", "ko", "--to", "en", "--tm", str(tm), "-o", str(out)]
    result = runner.invoke(app, [*args, "-j", "1", "--inpainter", "opencv"])
    assert result.exit_code == 0, result.output
    doc = read_sidecar(out)
    assert sorted(b["translation"] for b in doc["blocks"]) == [
        "Hello",
        "Nice weather today",
        "Thanks",
    ]
    assert all(b["render"]["status"] == "ok" and b["inpaint"] for b in doc["blocks"])
    drawn = np.asarray(Image.open(out / "page.png").convert("L"))
    before = np.asarray(Image.open(src).convert("L"))
    assert (drawn != before).mean() > 0.01  # erased and lettered


def test_missing_model_error_names_file_hash_and_command(weights_env: Path) -> None:
    model = ocr_registry.REGISTRY["ocr-korean"]
    with pytest.raises(MissingModelError) as err:
        ocr_registry.require(model, "--from ko")
    message = str(err.value)
    assert model.spec.filename in message and model.spec.sha256 in message  # type: ignore[operator]
    assert "imgtrans models fetch ocr-korean" in message
