"""``--translator auto``: pick the first backend that is configured.

:data:`BACKENDS` is the one table of API backends: its name, the environment variables
that configure it (which of them are secrets), a check "is it configured?" and a line
saying how to configure it. Auto-selection walks it in order; ``imgtrans doctor`` and
``imgtrans config show`` read it too. A backend is added with one entry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from imgtrans.errors import UsageError
from imgtrans.options import TranslatorOptions

# (environment, options) -> what configures the backend (variable or option names), or None
Check = Callable[[Mapping[str, str], TranslatorOptions], str | None]


def _all_of(*names: str) -> Check:
    def check(env: Mapping[str, str], options: TranslatorOptions) -> str | None:
        return " and ".join(names) if all(env.get(n, "").strip() for n in names) else None

    return check


def _any_of(*names: str) -> Check:
    def check(env: Mapping[str, str], options: TranslatorOptions) -> str | None:
        found = [n for n in names if env.get(n, "").strip()]
        return found[0] if found else None

    return check


def _offline_models(env: Mapping[str, str], options: TranslatorOptions) -> str | None:
    """--ct2-model / IMGTRANS_CT2_MODEL, or Argos Translate packages in their usual folder."""
    if options.ct2_model is not None:
        return "--ct2-model"
    if env.get("IMGTRANS_CT2_MODEL", "").strip():
        return "IMGTRANS_CT2_MODEL"
    from imgtrans.models import ct2_models

    roots = ct2_models.default_roots()
    if any(r.is_dir() for r in roots) and ct2_models.discover(roots):
        return f"Argos Translate packages in {roots[0]}"
    return None


@dataclass(frozen=True)
class Backend:
    """One API backend as auto-selection, ``doctor`` and ``config show`` see it."""

    name: str
    configured: Check
    how: str  # how to configure it, for the "nothing configured" message
    variables: tuple[str, ...]  # every environment variable it reads
    secrets: tuple[str, ...] = ()  # those that hold credentials (masked, refused in configs)


BACKENDS: list[Backend] = [
    Backend(
        "deepl",
        _all_of("DEEPL_API_KEY"),
        "DEEPL_API_KEY=... (DEEPL_API_BASE for another endpoint)",
        ("DEEPL_API_KEY", "DEEPL_API_BASE", "DEEPL_FORMALITY"),
        ("DEEPL_API_KEY",),
    ),
    Backend(
        "papago",
        _all_of("PAPAGO_CLIENT_ID", "PAPAGO_CLIENT_SECRET"),
        "PAPAGO_CLIENT_ID=... and PAPAGO_CLIENT_SECRET=...",
        (
            "PAPAGO_CLIENT_ID",
            "PAPAGO_CLIENT_SECRET",
            "PAPAGO_API_BASE",
            "PAPAGO_GLOSSARY_KEY",
            "PAPAGO_HONORIFIC",
        ),
        ("PAPAGO_CLIENT_ID", "PAPAGO_CLIENT_SECRET", "PAPAGO_GLOSSARY_KEY"),
    ),
    Backend(
        "google",
        _all_of("GOOGLE_API_KEY"),
        "GOOGLE_API_KEY=...",
        ("GOOGLE_API_KEY", "GOOGLE_API_BASE"),
        ("GOOGLE_API_KEY",),
    ),
    Backend(
        "microsoft",
        _all_of("MICROSOFT_TRANSLATOR_KEY"),
        "MICROSOFT_TRANSLATOR_KEY=... (and MICROSOFT_TRANSLATOR_REGION=...)",
        (
            "MICROSOFT_TRANSLATOR_KEY",
            "MICROSOFT_TRANSLATOR_REGION",
            "MICROSOFT_TRANSLATOR_API_BASE",
        ),
        ("MICROSOFT_TRANSLATOR_KEY",),
    ),
    Backend(
        "libretranslate",
        _any_of("LIBRETRANSLATE_API_BASE", "LIBRETRANSLATE_API_KEY"),
        "LIBRETRANSLATE_API_BASE=http://host:5000 (LIBRETRANSLATE_API_KEY for libretranslate.com)",
        ("LIBRETRANSLATE_API_BASE", "LIBRETRANSLATE_API_KEY", "LIBRETRANSLATE_CHAR_LIMIT"),
        ("LIBRETRANSLATE_API_KEY",),
    ),
    Backend(
        "openai",
        _any_of("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL"),
        "OPENAI_API_KEY=... or OPENAI_API_BASE=http://localhost:11434/v1 with OPENAI_MODEL=...",
        ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_MODEL"),
        ("OPENAI_API_KEY",),
    ),
    # Offline, last: picked when no API backend is configured.
    Backend(
        "ctranslate2",
        _offline_models,
        "--ct2-model DIR or IMGTRANS_CT2_MODEL=DIR (CTranslate2/Argos models), or Argos "
        "Translate packages installed (argospm install translate-ja_en)",
        ("IMGTRANS_CT2_MODEL", "ARGOS_PACKAGES_DIR"),
    ),
]


def backend(name: str) -> Backend | None:
    return next((b for b in BACKENDS if b.name == name), None)


def all_variables() -> tuple[str, ...]:
    return tuple(v for b in BACKENDS for v in b.variables)


def all_secrets() -> frozenset[str]:
    return frozenset(v for b in BACKENDS for v in b.secrets)


def configured(
    options: TranslatorOptions, env: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Every configured backend, in table order, with what configures it."""
    env = os.environ if env is None else env
    found = []
    for b in BACKENDS:
        reason = b.configured(env, options)
        if reason:
            found.append((b.name, reason))
    return found


def resolve(options: TranslatorOptions, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``auto`` -> (the translator chain to use, why). The TM (``--tm``) comes first.

    Raises :class:`UsageError` listing how to configure each backend when there is
    nothing to translate with: never a silent ``none``.
    """
    found = configured(options, env)
    if found:
        name, reason = found[0]
        chain = f"tm,{name}" if options.tm is not None else name
        return chain, f"{reason} is set"
    if options.tm is not None:
        return "tm", "--tm given, no API backend configured"
    raise UsageError(nothing_configured())


def nothing_configured() -> str:
    lines = [
        "no translator configured (--translator auto found none). Configure one in the "
        "environment or a .env file in the current folder:"
    ]
    lines += [f"  {b.name}: {b.how}" for b in BACKENDS]
    lines += [
        "  or give a translation memory: --tm FILE.tsv",
        "  or choose one explicitly: --translator NAME (see imgtrans translate --help); "
        "--translator none erases the text and letters nothing",
    ]
    return "\n".join(lines)
