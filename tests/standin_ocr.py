"""A stand-in recognition model for tests: the shipped PP-OCRv6 rec graph, cut down so its
classes are a handful of Latin letters whose dictionary entries (ONNX metadata) are Hangul.

It has the input and output shapes of any PP-OCR recogniser (``N x 3 x 48 x W`` ->
``N x W/8 x C``) and carries its own dictionary, like the real ``korean_PP-OCRv5`` export, so a
run with it exercises everything the real Korean model would: fetching and checksums, the
charset read from the file, CTC decoding into Hangul, the sidecar. Its "Korean" is a cipher:
it reads the Latin letter drawn and reports the Hangul syllable mapped to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgtrans.models.ppocr import ocr_model_paths, rec_charset

# Letters that the shipped model reads without look-alikes (no I/l/1, O/0).
CIPHER_LETTERS = "ABCDEFGHJKMNPRSTUVWXYZ"


def cipher_for(sentences: list[str]) -> dict[str, str]:
    """Hangul syllable -> the Latin letter that stands for it (each distinct syllable once)."""
    syllables = sorted({c for s in sentences for c in s if not c.isspace()})
    if len(syllables) > len(CIPHER_LETTERS):
        raise ValueError(f"{len(syllables)} syllables, only {len(CIPHER_LETTERS)} letters")
    return dict(zip(syllables, CIPHER_LETTERS, strict=False))


def encode(sentence: str, cipher: dict[str, str]) -> str:
    """The Latin text to draw so that the stand-in model reads ``sentence``."""
    return "".join(" " if c.isspace() else cipher[c] for c in sentence)


def build_standin_rec(cipher: dict[str, str], out: Path) -> Path:
    """Write the stand-in ONNX model to ``out``: classes blank, the cipher letters, space."""
    import onnx
    from onnx import numpy_helper

    src = ocr_model_paths()["rec"]
    charset = rec_charset(src)
    model = onnx.load(str(src))
    hangul = list(cipher)
    keep = [0, *(charset.index(cipher[h]) for h in hangul), len(charset) - 1]
    inits = {i.name: i for i in model.graph.initializer}
    for name in ("linear_8.w_0", "linear_8.b_0"):
        array = numpy_helper.to_array(inits[name])
        cut = np.ascontiguousarray(array[..., keep])
        inits[name].CopyFrom(numpy_helper.from_array(cut, name))
    dims = model.graph.output[0].type.tensor_type.shape.dim
    dims[2].dim_value = len(keep)
    del model.graph.value_info[:]  # stale 18,710-class shapes; onnxruntime infers them again
    del model.metadata_props[:]
    model.metadata_props.add(key="character", value="\n".join(hangul))
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


class FileServer:
    """Serves one folder on 127.0.0.1 (a stand-in for the model host) in a thread."""

    def __init__(self, folder: Path) -> None:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
