"""Config files: defaults for any ``imgtrans translate`` option.

Looked up in ``imgtrans.toml`` in the current folder and
``$XDG_CONFIG_HOME/imgtrans/config.toml`` (``~/.config/...`` when unset). Precedence:
command line > environment (``IMGTRANS_<KEY>``) > folder config > user config > built-in
default. The command line wins through the click ``default_map`` (which sits below both the
command line and its own default); this module builds that map from the other layers.

Keys are the long option names with ``-`` as ``_`` (``batch_size``, ``from``, ``font``...),
derived from the ``translate`` command itself, so a new option is a config key at once. An
``[env]`` table sets translator variables (``DEEPL_API_BASE`` ...) below the real
environment and ``.env``. Credentials belong in the environment or ``.env``: a secret in a
config file that others can read is refused.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from imgtrans.errors import UsageError

FOLDER_CONFIG = "imgtrans.toml"
ENV_PREFIX = "IMGTRANS_"
# Variables besides the translators' that an [env] table may set.
EXTRA_ENV = ("IMGTRANS_CACHE_DIR", "IMGTRANS_WEIGHTS", "IMGTRANS_LLM_MAX_IN_FLIGHT")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(UsageError):
    """A config file that cannot be used: unknown key, wrong type, a secret in the open."""

    kind = "config"


@dataclass(frozen=True)
class Option:
    """One ``translate`` option as a config key: its parameter name and value type."""

    key: str  # config key: the long option name, "-" -> "_" ("batch_size", "from")
    param: str  # the command's parameter name ("batch_size", "source")
    annotation: Any  # str, int, bool, Path, list[Path] (None stripped)
    default: Any


@dataclass
class Layer:
    """One source of values: a config file or the environment."""

    label: str  # "imgtrans.toml", "/home/u/.config/imgtrans/config.toml", "environment"
    values: dict[str, Any] = field(default_factory=dict)  # key -> typed value
    env: dict[str, str] = field(default_factory=dict)  # [env] table


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "imgtrans" / "config.toml"


def config_paths() -> list[Path]:
    """Config files in increasing precedence: user, then folder."""
    return [user_config_path(), Path.cwd() / FOLDER_CONFIG]


def load_dotenv_file() -> None:
    """``.env`` in the current folder into the environment (never over what is set)."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def options_of(command: Any) -> list[Option]:
    """The config keys of a (typer/click) command: every ``--long`` option."""
    out = []
    for param in command.params:
        longs = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
        if not longs or param.param_type_name != "option":
            continue
        annotation = param.type_descriptor.annotation
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is not list and args:  # X | None -> X
            annotation = args[0]
        key = max(longs, key=len)[2:].replace("-", "_")
        out.append(Option(key, str(param.name), annotation, param.default))
    return out


def known_env() -> tuple[str, ...]:
    from imgtrans.translators.auto import all_variables

    return (*all_variables(), *EXTRA_ENV)


def read_file(path: Path, options: list[Option]) -> Layer | None:
    """Parse and check one config file; None when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    label = str(path) if path.parent != Path.cwd() else path.name
    layer = Layer(label)
    by_key = {o.key: o for o in options}
    env_table = data.pop("env", {})
    for key, value in data.items():
        option = by_key.get(key)
        if option is None:
            raise ConfigError(_unknown(key, path, [*by_key, "env"]))
        layer.values[key] = _typed(option, value, f"config file {path}: key '{key}'", path.parent)
    layer.env = _env_table(env_table, path)
    return layer


def _unknown(key: str, path: Path, valid: Iterable[str], what: str = "key") -> str:
    close = difflib.get_close_matches(key, list(valid), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"config file {path}: unknown {what} '{key}'{hint}; valid: {', '.join(sorted(valid))}"


def _env_table(table: Any, path: Path) -> dict[str, str]:
    from imgtrans.translators.auto import all_secrets

    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: 'env' must be a table ([env])")
    known = known_env()
    out = {}
    for name, value in table.items():
        if name not in known:
            raise ConfigError(_unknown(name, path, known, "[env] variable"))
        if not isinstance(value, str | int | bool):
            raise ConfigError(f"config file {path}: [env] {name} must be a string")
        if name in all_secrets() and _readable_by_others(path):
            raise ConfigError(
                f"config file {path}: {name} is a secret and this file can be read by other "
                "users: put the key in the environment or a .env file (or chmod 600 the file)"
            )
        out[name] = str(value)
    return out


def _readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))


def _typed(option: Option, value: Any, where: str, base: Path | None) -> Any:
    """Check ``value`` (from TOML, or a string from the environment) against the option."""
    kind = option.annotation
    if get_origin(kind) is list:
        items = value.split(os.pathsep) if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ConfigError(f"{where}: expected a list")
        inner = Option(option.key, option.param, get_args(kind)[0], None)
        return [_typed(inner, v, where, base) for v in items if v != ""]
    if kind is bool:
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if kind is Path:
        path = Path(value).expanduser()
        # A relative path in a config file means relative to that file.
        return str(path if path.is_absolute() or base is None else base / path)
    return value


def read_environment(options: list[Option]) -> Layer:
    layer = Layer("environment")
    for option in options:
        var = ENV_PREFIX + option.key.upper()
        value = os.environ.get(var, "")
        if value.strip():
            layer.values[option.key] = _typed(option, value, f"environment {var}", None)
    return layer


def layers(command: Any) -> list[Layer]:
    """User config, folder config, environment: increasing precedence."""
    options = options_of(command)
    found = [read_file(path, options) for path in config_paths()]
    return [*(layer for layer in found if layer is not None), read_environment(options)]


def default_map(command: Any) -> dict[str, Any]:
    """The click ``default_map`` of ``command`` from config files and the environment.

    Side effect: ``.env`` and then the configs' ``[env]`` tables are loaded into the
    environment, each below what is already set.
    """
    load_dotenv_file()
    stack = layers(command)
    export_env(stack)
    params = {o.key: o.param for o in options_of(command)}
    merged: dict[str, Any] = {}
    for layer in stack:
        merged.update({params[k]: v for k, v in layer.values.items()})
    return merged


def export_env(stack: list[Layer]) -> None:
    env: dict[str, str] = {}
    for layer in stack:
        env.update(layer.env)
    for name, value in env.items():
        os.environ.setdefault(name, value)


def sources(command: Any) -> list[tuple[str, Any, str]]:
    """(key, effective value, where it came from) of every option, without the command
    line: what ``imgtrans config show`` prints."""
    stack = layers(command)
    rows = []
    for option in options_of(command):
        value, source = option.default, "default"
        for layer in stack:
            if option.key in layer.values:
                value, source = layer.values[option.key], layer.label
        if source == "environment":
            source = f"environment {ENV_PREFIX}{option.key.upper()}"
        rows.append((option.key, value, source))
    return rows


def effective_env(stack: list[Layer]) -> dict[str, tuple[str, str]]:
    """Every set translator variable -> (value, where it came from), as ``translate`` would
    see it after loading ``.env`` and the configs' ``[env]`` tables (the environment is not
    changed)."""
    from dotenv import dotenv_values

    dotenv = dotenv_values(Path.cwd() / ".env")
    out: dict[str, tuple[str, str]] = {}
    for name in known_env():
        candidates = [(os.environ.get(name), "environment"), (dotenv.get(name), ".env")]
        candidates += [(layer.env.get(name), layer.label) for layer in reversed(stack)]
        for value, where in candidates:
            if value is not None and value.strip():
                out[name] = (value, where)
                break
    return out


def translator_options(rows: list[tuple[str, Any, str]]) -> Any:
    """The :class:`TranslatorOptions` that decide what ``auto`` picks (``tm``,
    ``ct2_model``), from :func:`sources` rows."""
    from imgtrans.options import TranslatorOptions

    values = {key: value for key, value, _ in rows}
    paths = {k: Path(values[k]) for k in ("tm", "ct2_model") if values.get(k)}
    return TranslatorOptions(**paths)
