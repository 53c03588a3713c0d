"""``--translator ctranslate2``: offline translation with installed CTranslate2 models.

Models are Argos Translate packages or CTranslate2 model folders with SentencePiece
tokenisers (see :mod:`imgtrans.models.ct2_models`). Nothing goes over the network.

The pipeline translates each page in its own I/O thread; this backend gathers the blocks of
the pages that arrive together (a batch of pages is submitted at once) for a short window
and runs them through the model as one ``translate_batch`` call, so a model that batches
well on a GPU or over several CPU cores sees many sentences at a time. When only
``X -> en`` and ``en -> Y`` models are installed the texts pivot through English, and the
sidecar's ``run.translator`` says so.

Runs on CUDA when CTranslate2 sees a GPU, else on the CPU. Needs the optional packages
``ctranslate2`` and ``sentencepiece`` (``pip install "imgtrans[offline]"``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imgtrans.errors import MissingModelError, TranslatorError, UnsupportedLanguageError
from imgtrans.models import ct2_models
from imgtrans.models.ct2_models import Ct2Model
from imgtrans.options import TranslatorOptions
from imgtrans.translators.base import ContextPair, Translation, Translator

log = logging.getLogger(__name__)

BEAM_SIZE = 4
MAX_DECODING_LENGTH = 256
INSTALL = 'pip install "imgtrans[offline]"'


@dataclass
class _Request:
    texts: list[str]
    chain: tuple[Ct2Model, ...]
    done: threading.Event = field(default_factory=threading.Event)
    result: list[str] | None = None
    error: BaseException | None = None


class _Loaded:
    """One model in memory: the CTranslate2 translator and its two SentencePiece processors."""

    def __init__(self, model: Ct2Model, device: str) -> None:
        import ctranslate2
        import sentencepiece as spm

        self.translator = ctranslate2.Translator(
            str(model.model_dir), device=device, compute_type="default", inter_threads=1
        )
        self.source = spm.SentencePieceProcessor(model_file=str(model.source_spm))
        self.target = spm.SentencePieceProcessor(model_file=str(model.target_spm))

    def translate(self, texts: list[str]) -> list[str]:
        tokens = [self.source.encode(t, out_type=str) for t in texts]
        results = self.translator.translate_batch(
            tokens,
            beam_size=BEAM_SIZE,
            max_decoding_length=MAX_DECODING_LENGTH,
            max_batch_size=64,
        )
        return [self.target.decode(r.hypotheses[0]).strip() for r in results]


def installed_models(root: Path | None) -> list[Ct2Model]:
    """The models under ``root`` (``--ct2-model``), else in the default folders."""
    if root is not None and not Path(root).exists():
        raise MissingModelError(f"--ct2-model {root}: no such folder")
    return ct2_models.discover([Path(root)] if root else ct2_models.default_roots())


class CTranslate2Translator(Translator):
    """Offline backend; thread-safe (callers block while a worker thread runs the models)."""

    name = "ctranslate2"

    def __init__(self, options: TranslatorOptions, window: float = 0.05) -> None:
        try:
            import ctranslate2  # noqa: F401
            import sentencepiece  # noqa: F401
        except ImportError as exc:
            raise MissingModelError(
                f"--translator ctranslate2 needs the offline extra ({exc.name} is missing): "
                f"{INSTALL}"
            ) from None
        self.models = installed_models(options.ct2_model)
        if not self.models:
            where = options.ct2_model or ", ".join(map(str, ct2_models.default_roots()))
            raise MissingModelError(
                f"--translator ctranslate2: no model installed in {where}; install an Argos "
                "Translate package (argospm install translate-ja_en) or pass --ct2-model DIR"
            )
        self.window = window
        self.batch_sizes: list[int] = []  # texts per model call, for logs and tests
        self._loaded: dict[Path, _Loaded] = {}
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pair: tuple[str, str] | None = None

    @staticmethod
    def device() -> str:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def chain(self, source: str, target: str) -> tuple[Ct2Model, ...]:
        found = ct2_models.route(self.models, source, target)
        if found is None:
            pairs = ", ".join(m.pair for m in self.models)
            raise UnsupportedLanguageError(
                f"translator 'ctranslate2' has no model for {source} -> {target} (directly or "
                f"through English); installed: {pairs}"
            )
        return tuple(found)

    def check_pair(self, source: str, target: str) -> None:
        if source != "auto":
            self.chain(source, target)
            self._pair = (source, target)
        elif not any(m.target in (None, ct2_models.model_code(target)) for m in self.models):
            self.chain("en", target)  # raises, listing what is installed

    def describe(self) -> str:
        if self._pair is not None:
            chain = self.chain(*self._pair)
            labels = " + ".join(m.label for m in chain)
            if len(chain) == 2:
                src, tgt = self._pair
                return f"ctranslate2:{labels} ({src}->en->{tgt}, pivot through en)"
            return f"ctranslate2:{labels}"
        labels = ", ".join(f"{m.label} ({m.pair})" for m in self.models)
        return f"ctranslate2:{labels} (pivot through en where no direct model)"

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        if not texts:
            return []
        request = _Request(list(texts), self.chain(source, target))
        self._start()
        self._queue.put(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return [Translation(t) if t else Translation(None, "empty output") for t in request.result]

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="ct2", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            deadline = time.monotonic() + self.window
            stop = False
            while (left := deadline - time.monotonic()) > 0:
                try:
                    more = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._run(batch)
            if stop:
                return

    def _run(self, batch: list[_Request]) -> None:
        """Translate every request of ``batch``: one model call per model of each chain."""
        by_chain: dict[tuple[Ct2Model, ...], list[_Request]] = {}
        for request in batch:
            by_chain.setdefault(request.chain, []).append(request)
        for chain, requests in by_chain.items():
            try:
                texts = [t for r in requests for t in r.texts]
                for model in chain:
                    texts = self._model(model).translate(texts)
                    self.batch_sizes.append(len(texts))
                start = 0
                for r in requests:
                    r.result = texts[start : start + len(r.texts)]
                    start += len(r.texts)
            except Exception as exc:  # noqa: BLE001 - handed to the waiting callers
                error = (
                    exc
                    if isinstance(exc, TranslatorError)
                    else TranslatorError(f"ctranslate2 failed: {type(exc).__name__}: {exc}")
                )
                for r in requests:
                    r.error = error
            for r in requests:
                r.done.set()

    def _model(self, model: Ct2Model) -> _Loaded:
        loaded = self._loaded.get(model.model_dir)
        if loaded is None:
            device = self.device()
            log.info("ctranslate2: loading %s (%s) on %s", model.label, model.pair, device)
            loaded = self._loaded[model.model_dir] = _Loaded(model, device)
        return loaded

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._queue.put(None)
                self._worker.join(timeout=10)
                self._worker = None
        self._loaded.clear()
