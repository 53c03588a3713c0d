"""``imgtrans doctor``: is this install ready to translate, and if not, what fixes it.

Each check returns :class:`Check` rows: ``ok``, ``warn`` (works, but worse: no GPU, no LaMa
weights) or ``fail`` (``translate`` would stop: a model or font missing, nothing to translate
with, a broken config, an unwritable cache). Translator settings are reported as configured
or not, never with their values.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

from imgtrans.errors import ImgtransError

TARGET_SCRIPTS = {"ko": "Korean", "ja": "Japanese", "zh-Hans": "Chinese (simplified)"}
TARGET_SCRIPTS |= {"zh-Hant": "Chinese (traditional)", "en": "Latin"}


@dataclass(frozen=True)
class Check:
    name: str  # "python", "torch", "ocr model det", "font ko", "translator deepl", ...
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def check_python() -> list[Check]:
    # An older Python cannot import imgtrans at all (pyproject: requires-python >= 3.11).
    return [Check("python", "ok", f"{platform.python_version()} ({sys.executable})")]


def check_torch() -> list[Check]:
    try:
        import torch
    except ImportError as exc:
        return [Check("torch", "fail", f"cannot import torch: {exc}", "pip install torch")]
    rows = [Check("torch", "ok", torch.__version__)]
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        name = torch.cuda.get_device_name(0)
        detail = f"cuda: {name}, {free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB"
        rows.append(Check("device", "ok", detail))
    else:
        rows.append(
            Check(
                "device",
                "warn",
                "cpu (torch sees no CUDA GPU): works, slower",
                "for a GPU install the CUDA build of torch and an NVIDIA driver",
            )
        )
    return rows


def check_onnxruntime() -> list[Check]:
    try:
        import onnxruntime
    except ImportError as exc:
        return [Check("onnxruntime", "fail", str(exc), "pip install onnxruntime")]
    providers = onnxruntime.get_available_providers()
    detail = f"{onnxruntime.__version__}, providers: {', '.join(providers)}"
    if "CPUExecutionProvider" not in providers:
        return [Check("onnxruntime", "fail", detail, "pip install --force-reinstall onnxruntime")]
    return [Check("onnxruntime", "ok", detail)]


def check_ocr_models() -> list[Check]:
    from imgtrans.models.ppocr import model_sha256, ocr_model_paths

    try:
        paths = ocr_model_paths()
    except ImgtransError as exc:
        return [Check("ocr models", "fail", str(exc), "pip install --force-reinstall rapidocr")]
    return [
        Check(f"ocr model {kind}", "ok", f"{path.name} sha256 {model_sha256(path)} ({path})")
        for kind, path in paths.items()
    ]


def check_fonts() -> list[Check]:
    from imgtrans.lettering.fonts import build_chain

    rows = []
    for lang, script in TARGET_SCRIPTS.items():
        try:
            chain = build_chain((), lang)
        except ImgtransError as exc:
            fix = "reinstall imgtrans (fonts ship inside it) or pass --font FILE"
            rows.append(Check(f"font {lang}", "fail", f"{script}: {exc}", fix))
            continue
        first = chain.specs[0]
        rows.append(Check(f"font {lang}", "ok", f"{script}: {first.path.name} ({first.origin})"))
    return rows


def check_lama() -> list[Check]:
    from imgtrans.models import weights

    directory = weights.weights_dir()
    for name in weights.REGISTRY:
        path = weights.find_verified(name, directory)
        if path is not None:
            return [Check("lama weights", "ok", f"{name}: {path} (verified)")]
    present = [s.filename for s in weights.REGISTRY.values() if (directory / s.filename).exists()]
    state = f"checksum mismatch: {', '.join(present)}" if present else "absent"
    return [
        Check(
            "lama weights",
            "warn",
            f"{state} in {directory}: the OpenCV inpainter runs instead (worse over artwork)",
            f"imgtrans models fetch {weights.DEFAULT}",
        )
    ]


def check_translators() -> list[Check]:
    """Config files valid, each backend configured or not, what ``auto`` would pick."""
    import typer.main

    from imgtrans import config
    from imgtrans.cli import app
    from imgtrans.errors import UsageError
    from imgtrans.translators import auto

    command = typer.main.get_command(app).commands["translate"]  # type: ignore[attr-defined]
    try:
        stack = config.layers(command)
    except UsageError as exc:
        return [Check("config", "fail", str(exc), "fix or remove the config file named")]
    found = [str(p) for p in config.config_paths() if p.is_file()]
    rows = [Check("config", "ok", ", ".join(found) if found else "no config file (defaults)")]
    env = {k: v for k, (v, _) in config.effective_env(stack).items()}
    settings_rows = config.sources(command)
    settings = {k: v for k, v, _ in settings_rows}
    options = config.translator_options(settings_rows)
    for backend in auto.BACKENDS:
        reason = backend.configured(env, options)
        status = f"configured ({reason} set)" if reason else "not configured"
        rows.append(Check(f"translator {backend.name}", "ok", status))
    chosen = settings.get("translator") or "auto"
    if chosen != "auto":
        rows.append(Check("translator", "ok", f"{chosen} (from the config or environment)"))
        return rows
    try:
        name, why = auto.resolve(options, env)
    except UsageError as exc:
        return [*rows, Check("translator", "fail", "auto: nothing configured", str(exc))]
    return [*rows, Check("translator", "ok", f"auto: {name} ({why})")]


def check_folders() -> list[Check]:
    from imgtrans.discover import check_writable
    from imgtrans.models.weights import weights_dir
    from imgtrans.translators.cache import default_cache_dir

    rows = []
    folders = [
        ("cache folder", default_cache_dir(), "fail"),
        ("weights folder", weights_dir(), "warn"),
    ]
    for name, folder, severity in folders:
        try:
            check_writable(folder)
        except ImgtransError as exc:
            var = "IMGTRANS_CACHE_DIR" if name == "cache folder" else "IMGTRANS_WEIGHTS"
            rows.append(Check(name, severity, str(exc), f"make it writable or set {var}"))
            continue
        rows.append(Check(name, "ok", f"{folder} (writable)"))
    return rows


CHECKS: list[Callable[[], list[Check]]] = [
    check_python,
    check_torch,
    check_onnxruntime,
    check_ocr_models,
    check_fonts,
    check_lama,
    check_translators,
    check_folders,
]


def run_checks() -> list[Check]:
    """Every check; one that crashes is reported as failed, the others still run."""
    rows: list[Check] = []
    for check in CHECKS:
        try:
            rows.extend(check())
        except Exception as exc:  # noqa: BLE001 - a doctor must report, not crash
            name = check.__name__.removeprefix("check_")
            rows.append(Check(name, "fail", f"{type(exc).__name__}: {exc}"))
    return rows


def report(json_out: bool) -> int:
    """Print the checks (stdout) and return the exit status: 1 when any check failed."""
    import json

    import typer

    rows = run_checks()
    failed = [r for r in rows if r.status == "fail"]
    if json_out:
        doc = {"ok": not failed, "checks": [r.as_dict() for r in rows]}
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            typer.echo(f"{row.status.upper():<5} {row.name:<22} {row.detail}")
            if row.fix and row.status != "ok":
                fix = row.fix.replace("\n", "\n" + " " * 33)
                typer.echo(f"{'':<5} {'':<22}   fix: {fix}")
        verdict = "translate would stop: fix the FAIL lines" if failed else "ready to translate"
        typer.echo(f"\n{verdict}")
    return 1 if failed else 0
