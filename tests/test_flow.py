"""Issue K: the model stages' steps through the device (this process) and the worker pool."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from imgtrans.flow import Flow
from imgtrans.page import Job, Page
from imgtrans.pool import WorkerPool
from imgtrans.stages import Step, run_steps, steps_of
from imgtrans.stages.mask import Mask


def page(name: str) -> Page:
    job = Job(Path(f"/in/{name}"), name, Path(f"/out/{name}"), Path(f"/out/{name}.json"))
    image = np.full((16, 24, 3), len(name), np.uint8)
    return Page(job.source, name, "0" * 64, image, job=job, work=())


@dataclass(frozen=True)
class Note:
    """A worker step: notes the process it ran in; kills its worker on page ``crash``."""

    tag: str
    crash: str = ""
    main_pid: int = 0

    def __call__(self, pages: list[Page]) -> list[Page]:
        assert len(pages) == 1, "worker steps see one page"
        if pages[0].rel_path == self.crash and os.getpid() != self.main_pid:
            os._exit(70)
        return [replace(p, work=(*p.work, (self.tag, os.getpid()))) for p in pages]


@dataclass
class Device:
    """A device step: notes the batch it saw."""

    batches: list[list[str]]

    def __call__(self, pages: list[Page]) -> list[Page]:
        self.batches.append([p.rel_path for p in pages])
        return [replace(p, work=(*p.work, ("device", os.getpid()))) for p in pages]


def run(flow: Flow, batches: list[list[Page]]) -> list[Page]:
    out = []
    for batch in batches:
        flow.admit(batch)
        out += [p for f in flow.pump(flow.depth) for p in f.pages]
    return out + [p for f in flow.drain() for p in f.pages]


def test_worker_steps_run_in_workers_and_device_steps_here_in_batches_in_order() -> None:
    device = Device([])
    steps = [
        Step(Note("a"), False),
        Step(Note("b"), False),
        Step(device, True),
        Step(Note("c"), False),
    ]
    names = [f"p{i}.png" for i in range(7)]
    pool = WorkerPool(2)
    try:
        out = run(Flow(steps, pool, 3), [[page(n) for n in names[i : i + 3]] for i in (0, 3, 6)])
    finally:
        pool.shutdown()
    assert [p.rel_path for p in out] == names
    # batches keep together on the device (one may overtake another there), leave in order
    assert sorted(device.batches) == [names[0:3], names[3:6], names[6:7]]
    for p in out:
        assert [tag for tag, _ in p.work] == ["a", "b", "device", "c"]
        pids = dict(p.work)
        assert pids["device"] == os.getpid()
        assert pids["a"] == pids["b"] != os.getpid()  # consecutive worker steps: one task
        assert pids["c"] != os.getpid()
    # the same as the steps run one after the other in this process
    again = run_steps(steps, [page(n) for n in names])
    assert [[t for t, _ in p.work] for p in again] == [[t for t, _ in p.work] for p in out]


def test_a_page_that_kills_its_worker_fails_alone_and_skips_the_later_steps() -> None:
    device = Device([])
    steps = [Step(Note("a", crash="p1.png", main_pid=os.getpid()), False), Step(device, True)]
    pool = WorkerPool(2)
    try:
        out = run(Flow(steps, pool, 4), [[page(f"p{i}.png") for i in range(4)]])
    finally:
        pool.shutdown()
    assert [p.error.kind if p.error else None for p in out] == [None, "worker_crashed", None, None]
    assert device.batches == [["p0.png", "p2.png", "p3.png"]]
    assert pool.restarts >= 1


def test_translation_starts_when_the_text_is_read() -> None:
    from concurrent.futures import Future

    started: list[list[str]] = []

    def translate(pages: list[Page]) -> Future[object]:
        started.append([tag for tag, _ in pages[0].work])
        fut: Future[object] = Future()
        fut.set_result([None] * len(pages))
        return fut

    steps = [Step(Note("ocr"), False), Step(Device([]), True)]
    flow = Flow(steps, WorkerPool(1), 2, translate_at=1, translate=translate)
    assert flow.pump() == []  # nothing admitted yet
    flow.admit([page("a.png"), page("b.png")])
    [flight] = flow.drain()
    assert started == [["ocr"]] and flight.live == [0, 1]
    assert flight.translation is not None


def test_the_mask_stage_is_a_worker_step_and_unsplit_stages_one_device_step() -> None:
    mask = Mask()
    assert steps_of(mask) == (Step(mask, device=False),)

    def fake(pages: list[Page]) -> list[Page]:
        return pages

    assert steps_of(fake) == (Step(fake, device=True),)
    assert steps_of(None) == ()


def drawn_pages() -> list[Page]:
    """Pages OCR reads text on: a flat one, one over stripes (LaMa's path), a vertical
    column, and one too small to hold text."""
    from drawing import FONT_KO, Text, draw

    flat = draw(360, 140, [Text("Hello there", (20, 40), 40, font=FONT_KO)])
    striped = draw(360, 140, [Text("STRIPES", (30, 40), 44, font=FONT_KO)])
    striped[::5] = 90  # art behind the text: no flat fill
    column = draw(120, 320, [Text("縦書きの文字", (40, 20), 36, vertical=True)])
    tiny = np.full((5, 5, 3), 255, np.uint8)
    pages = []
    for i, image in enumerate([flat, striped, column, tiny]):
        name = f"p{i}.png"
        job = Job(Path(f"/in/{name}"), name, Path(f"/out/{name}"), Path(f"/out/{name}.json"))
        pages.append(Page(job.source, name, "0" * 64, image, job=job))
    return pages


def test_ocr_mask_and_inpaint_read_and_erase_alike_as_steps_in_workers_and_whole(
    ocr_engine: Any,
) -> None:
    """The split stages through the flow (host steps in 2 worker processes, page images
    moved in shared memory) give what the stages give run whole in this process."""
    import torch
    from lama_testing import tiny_lama

    from imgtrans.models.lama_runner import LamaInpainter
    from imgtrans.options import InpaintOptions
    from imgtrans.stages.inpaint import Inpainter

    inpainter = Inpainter(InpaintOptions(), LamaInpainter(tiny_lama(), torch.device("cpu")))
    mask = Mask()
    whole = inpainter(mask(ocr_engine(drawn_pages())))
    assert {b.inpaint_path for p in whole for b in p.blocks} >= {"flat", "lama"}
    steps = [*ocr_engine.steps(), *mask.steps(), *inpainter.steps()]
    assert [s.device for s in steps].count(True) == 4  # det, cls, rec, LaMa
    for step in steps:
        if not step.device:
            assert pickle.loads(pickle.dumps(step.fn)) == step.fn
    pool = WorkerPool(2)
    try:
        pages = drawn_pages()
        split = run(Flow(steps, pool, 2), [pages[:2], pages[2:]])
    finally:
        pool.shutdown()
    assert [p.rel_path for p in split] == [p.rel_path for p in whole]
    for a, b in zip(whole, split, strict=True):
        assert a.error is None and b.error is None and b.work is None
        assert a.blocks == b.blocks and a.source_lang == b.source_lang
        assert a.mask is not None and b.mask is not None and np.array_equal(a.mask, b.mask)
        assert a.clean is not None and b.clean is not None and np.array_equal(a.clean, b.clean)
    assert split[0].blocks and not split[3].blocks
