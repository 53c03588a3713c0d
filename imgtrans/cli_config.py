"""``imgtrans config show``: the effective ``translate`` options and where each came from."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from imgtrans import config
from imgtrans.errors import UsageError

app = typer.Typer(help="Config files: imgtrans.toml here, then ~/.config/imgtrans/config.toml.")

MASK = "********"


def _translate_command() -> Any:
    import typer.main

    from imgtrans.cli import app as root

    return typer.main.get_command(root).commands["translate"]  # type: ignore[attr-defined]


def _auto(rows: list[tuple[str, Any, str]], env: dict[str, tuple[str, str]]) -> str:
    """What ``--translator auto`` would pick, or why it would stop."""
    from imgtrans.translators import auto

    options = config.translator_options(rows)
    try:
        name, why = auto.resolve(options, {k: v for k, (v, _) in env.items()})
    except UsageError:
        return "nothing configured: translate would exit 2 (see imgtrans doctor)"
    return f"{name} ({why})"


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@app.command()
def show(
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the same as JSON on stdout.")
    ] = False,
) -> None:
    """Print the effective translate options (TOML, on stdout) and where each came from;
    keys masked. The command line, which wins over all of these, is not included."""
    from imgtrans.translators.auto import all_secrets

    command = _translate_command()
    stack = config.layers(command)
    rows = config.sources(command)
    env = config.effective_env(stack)
    secrets = all_secrets()
    shown_env = {k: (MASK if k in secrets else v, where) for k, (v, where) in env.items()}
    translator = next((v for k, v, _ in rows if k == "translator"), None)
    auto = _auto(rows, env) if translator in (None, "auto") else None
    if json_out:
        doc = {
            "files": [str(p) for p in config.config_paths()],
            "options": {k: {"value": v, "source": s} for k, v, s in rows},
            "env": {k: {"value": v, "source": s} for k, (v, s) in shown_env.items()},
            "auto_translator": auto,
        }
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo("# config files (later wins): " + ", ".join(map(str, config.config_paths())))
    for key, value, source in rows:
        note = f"  # {source}"
        if key == "translator" and auto is not None:
            note += f" -> {auto}"
        line = f"# {key} (not set)" if value is None else f"{key} = {_toml(value)}"
        typer.echo(f"{line:<40}{note}")
    typer.echo("\n[env]")
    if not shown_env:
        typer.echo("# no translator variable is set")
    for name, (value, where) in shown_env.items():
        typer.echo(f"{name + ' = ' + _toml(value):<40}  # {where}")
