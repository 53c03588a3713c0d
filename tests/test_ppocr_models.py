"""PP-OCR models: torch interpreter vs onnxruntime on rendered text, and what the models read.

Inputs are text rendered with real fonts, so the expected strings are known by construction.
Preprocessing follows PaddleOCR's defaults (det: BGR ImageNet mean/std; rec and cls: BGR,
height 48, (x/255 - 0.5)/0.5, right-padded with zeros).
"""

from __future__ import annotations

import importlib.resources
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

from imgtrans.models.onnx_graph import OnnxGraph
from imgtrans.models.onnx_ops import UnsupportedOnnxError
from imgtrans.models.ppocr import (
    ctc_decode_best,
    ctc_greedy_decode,
    ocr_model_paths,
    rec_charset,
)
from imgtrans.models.ppocr_onnx import OnnxOcrBackend
from imgtrans.models.ppocr_torch import TorchOcrBackend

# The fonts shipped in the wheel (imgtrans.fonts), so these tests run on a fresh machine:
# the Japanese subset also covers Latin; the Simplified Chinese one covers the Chinese lines.
FONTS = importlib.resources.files("imgtrans.fonts")
JP = Path(str(FONTS / "NotoSansJP-Bold-subset.otf"))
SC = Path(str(FONTS / "NotoSansSC-Bold-subset.otf"))
LATIN = JP
# (text, font, face index)
LINES = [
    ("Hello World 2024", LATIN, 0),
    ("こんにちは世界", JP, 0),
    ("中文识别测试", SC, 0),
    ("Translate images", LATIN, 0),
    ("東京タワー", JP, 0),
    ("OCR 42", LATIN, 0),
]
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def _font(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index)


def render_line(text: str, path: Path, index: int, size: int = 32, pad: int = 6) -> np.ndarray:
    """A tight RGB uint8 crop of black text on white."""
    font = _font(path, index, size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), "white")
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill="black")
    return np.asarray(img)


def render_page(
    height: int, width: int, lines: list[tuple[str, Path, int]]
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """White page with the lines stacked from the top-left; returns it and each line's box."""
    page = np.full((height, width, 3), 255, np.uint8)
    boxes, y = [], 16
    for text, path, index in lines:
        crop = render_line(text, path, index, size=28)
        h, w = crop.shape[:2]
        page[y : y + h, 16 : 16 + w] = crop
        boxes.append((16, y, 16 + w, y + h))
        y += h + 24
    return page, boxes


def det_input(pages: list[np.ndarray]) -> np.ndarray:
    """RGB pages (same size, multiples of 32) -> N x 3 x H x W as PaddleOCR's det config."""
    bgr = np.stack(pages)[..., ::-1].astype(np.float32) / 255.0
    return ((bgr - MEAN[::-1]) / STD[::-1]).astype(np.float32).transpose(0, 3, 1, 2).copy()


def rec_input(crops: list[np.ndarray], width: int | None = None) -> np.ndarray:
    """RGB crops -> N x 3 x 48 x W, each resized to height 48 and right-padded with zeros."""
    widths = [min(math.ceil(48 * c.shape[1] / c.shape[0]), 2000) for c in crops]
    width = width or max(320, *widths)
    out = np.zeros((len(crops), 3, 48, width), np.float32)
    for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
        resized = cv2.resize(crop[..., ::-1], (min(w, width), 48), interpolation=cv2.INTER_LINEAR)
        out[i, :, :, : resized.shape[1]] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return out


@pytest.fixture(scope="module")
def backends() -> tuple[TorchOcrBackend, OnnxOcrBackend]:
    torch.set_num_threads(1)
    return TorchOcrBackend(torch.device("cpu")), OnnxOcrBackend(intra_op_threads=1)


@pytest.fixture(scope="module")
def charset() -> list[str]:
    return rec_charset(ocr_model_paths()["rec"])


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    return [render_line(text, path, index) for text, path, index in LINES]


def test_charset_has_blank_first_space_last_and_no_hangul(charset: list[str]) -> None:
    assert charset[0] == "" and charset[-1] == " "
    assert len(charset) == 18710
    assert {"あ", "ア", "中", "A", "7"} <= set(charset)
    assert not any("\uac00" <= c <= "\ud7a3" for c in charset)


@pytest.mark.parametrize(("n", "height", "width"), [(1, 256, 512), (3, 192, 320)])
def test_det_parity_and_text_found(backends, n: int, height: int, width: int) -> None:
    torch_b, onnx_b = backends
    pages, all_boxes = [], []
    for i in range(n):
        page, boxes = render_page(height, width, LINES[i : i + 3])
        pages.append(page)
        all_boxes.append(boxes)
    batch = det_input(pages)
    got, want = torch_b.det(batch), onnx_b.det(batch)
    assert got.shape == want.shape == (n, height, width)
    assert np.abs(got - want).max() < 1e-3
    for prob, boxes in zip(got, all_boxes, strict=True):
        inside = np.zeros(prob.shape, bool)
        for x0, y0, x1, y1 in boxes:
            assert prob[y0:y1, x0:x1].max() > 0.9  # every line is detected
            inside[y0:y1, x0:x1] = True
        assert prob[~inside].max() < 0.5  # blank paper is not text


@pytest.mark.parametrize("width", [320, 480])
def test_rec_parity_reads_the_rendered_text(backends, charset, crops, width: int) -> None:
    torch_b, onnx_b = backends
    for idx in ([0], [1, 2, 4]):  # batch 1 and batch 3
        batch = rec_input([crops[i] for i in idx], width)
        got, want = torch_b.rec(batch), onnx_b.rec(batch)
        assert got.shape == want.shape == (len(idx), width // 8, len(charset))
        assert np.abs(got - want).max() < 1e-3
        texts = [t for t, _, _ in ctc_greedy_decode(got, charset)]
        assert texts == [t for t, _, _ in ctc_greedy_decode(want, charset)]
        assert texts == [LINES[i][0] for i in idx]
        for backend in backends:  # the device-side reduction reads the same
            assert ctc_decode_best(*backend.rec_best(batch), charset) == ctc_greedy_decode(
                want if backend is onnx_b else got, charset
            )


def test_cls_parity_and_orientation(backends, crops) -> None:
    torch_b, onnx_b = backends
    upright = [crops[0], crops[1], crops[3]]
    batch = rec_input(upright + [c[::-1, ::-1] for c in upright], 192)
    got, want = torch_b.cls(batch), onnx_b.cls(batch)
    assert got.shape == (6, 2)
    assert np.abs(got - want).max() < 1e-3
    assert got.argmax(1).tolist() == want.argmax(1).tolist() == [0, 0, 0, 1, 1, 1]


def test_rec_strings_do_not_change_when_padded_to_the_widest_crop(backends, charset) -> None:
    """The batching invariance the OCR stage relies on (FACTS: 32/32 for v6 small)."""
    torch_b, onnx_b = backends
    words = ["Hi", "OCR 42", "東京", "こんにちは世界", "Hello World 2024", "中文识别测试结果"]
    fonts = [(LATIN, 0), (LATIN, 0), (JP, 0), (JP, 0), (LATIN, 0), (SC, 0)]
    lines = [render_line(w, *f) for w, f in zip(words, fonts, strict=True)]
    lines.append(render_line("A much longer line of text for the widest crop", LATIN, 0))
    padded = rec_input(lines)
    assert padded.shape[3] > 640  # the narrow crops really are padded a lot
    for backend in (torch_b, onnx_b):
        together = [t for t, _, _ in ctc_greedy_decode(backend.rec(padded), charset)]
        alone = [ctc_greedy_decode(backend.rec(rec_input([c])), charset)[0][0] for c in lines]
        assert together == alone
        assert together[: len(words)] == words


def test_ctc_greedy_decode_collapses_repeats_and_drops_blanks() -> None:
    charset = ["", "a", "b", " "]
    steps = [1, 1, 0, 1, 2, 2, 0, 0, 3, 1]  # a a _ a b b _ _ ' ' a
    probs = np.full((1, len(steps), 4), 0.1, np.float32)
    probs[0, np.arange(len(steps)), steps] = 0.7
    ((text, score, where),) = ctc_greedy_decode(probs, charset)
    assert text == "aab a"
    assert where == [0, 3, 4, 8, 9]
    assert score == pytest.approx(0.7)
    assert ctc_greedy_decode(np.zeros((1, 3, 4), np.float32), charset)[0][:2] == ("", 0.0)


def test_missing_model_file_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from imgtrans.errors import ExitCode, MissingModelError
    from imgtrans.models import ppocr

    monkeypatch.setitem(ppocr.MODEL_FILES, "rec", "no_such_model.onnx")
    with pytest.raises(MissingModelError, match="no_such_model.onnx.*pip install") as info:
        ocr_model_paths()
    assert info.value.code == ExitCode.MISSING_MODEL


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_a_gpu_is_an_error_not_a_fallback() -> None:
    from imgtrans.errors import UsageError

    with pytest.raises(UsageError, match="no CUDA GPU"):
        TorchOcrBackend(torch.device("cuda"))


def test_bad_input_shapes_are_refused(backends) -> None:
    torch_b, onnx_b = backends
    with pytest.raises(ValueError, match="multiples of 32"):
        torch_b.det(np.zeros((1, 3, 100, 64), np.float32))
    with pytest.raises(ValueError, match="multiples of 32"):
        onnx_b.det(np.zeros((1, 3, 100, 64), np.float32))
    with pytest.raises(ValueError, match="height 48"):
        torch_b.rec(np.zeros((1, 3, 32, 320), np.float32))
    with pytest.raises(ValueError, match="N x 3 x H x W"):
        onnx_b.rec(np.zeros((3, 48, 320), np.float32))


def test_unknown_operator_is_named(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("Celu", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    path = tmp_path / "celu.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(UnsupportedOnnxError, match="Celu"):
        OnnxGraph(path)


def test_graphs_are_simplified_at_load() -> None:
    """Identity/Constant nodes gone and chains fused: far fewer steps than ONNX nodes."""
    paths = ocr_model_paths()
    assert OnnxGraph(paths["det"]).n_steps < 200  # 464 ONNX nodes
    assert OnnxGraph(paths["rec"]).n_steps < 200  # 480
    assert OnnxGraph(paths["cls"]).n_steps < 200  # 566


@pytest.mark.slow
def test_rec_compiles_without_graph_breaks(backends, crops) -> None:
    """torch.compile sees one graph: shape arithmetic stays in Python ints."""
    torch_b, _ = backends
    torch._dynamo.reset()
    compiled = torch.compile(torch_b.rec_model, backend="eager", fullgraph=True, dynamic=True)
    with torch.inference_mode():
        for width in (320, 400):
            x = torch.from_numpy(rec_input([crops[0], crops[1]], width))
            assert torch.allclose(compiled(x), torch_b.rec_model(x), atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(backends, charset, crops) -> None:
    torch_b, _ = backends
    gpu = TorchOcrBackend(torch.device("cuda"))
    pages = det_input([render_page(256, 512, LINES[i : i + 3])[0] for i in range(3)])
    rec = rec_input(crops)
    # TF32 convolutions (torch's default on Ampere+) round to ~1e-3: compare in full fp32
    # first, then check that the default settings still read the same strings.
    old = torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = False
        assert np.abs(gpu.det(pages) - torch_b.det(pages)).max() < 1e-3
        assert np.abs(gpu.rec(rec) - torch_b.rec(rec)).max() < 1e-3
        assert np.abs(gpu.cls(rec[:, :, :, :192]) - torch_b.cls(rec[:, :, :, :192])).max() < 1e-3
    finally:
        torch.backends.cudnn.allow_tf32 = old
    on_gpu = gpu.det_torch(torch.from_numpy(pages).cuda())
    assert on_gpu.device.type == "cuda" and on_gpu.shape == (3, 256, 512)
    texts = [t for t, _, _ in ctc_greedy_decode(gpu.rec(rec), charset)]
    assert texts == [text for text, _, _ in LINES]
    assert [t for t, _, _ in ctc_decode_best(*gpu.rec_best(rec), charset)] == texts
