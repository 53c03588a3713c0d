"""README.md is the interface users read: keep it in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from imgtrans.cli import app
from imgtrans.errors import ExitCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_every_exit_code_is_in_the_readme_table() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", README, flags=re.M))
    assert {int(c) for c in table} == {int(c) for c in ExitCode}


def test_every_option_of_every_command_is_documented() -> None:
    group = typer.main.get_command(app)
    missing = []
    commands = [(name, cmd) for name, cmd in group.commands.items()]
    for name, cmd in list(commands):
        commands.extend((f"{name} {sub}", c) for sub, c in getattr(cmd, "commands", {}).items())
    for name, command in commands:
        assert f"imgtrans {name.split()[0]}" in README, name
        assert name.split()[-1] in README, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if (
                    opt.startswith("--")
                    and opt != "--help"
                    and not re.search(rf"(?<![\w-]){opt}(?![\w-])", README)
                ):
                    missing.append(f"{name} {opt}")
    assert not missing, missing


def test_quick_start_is_two_commands_and_ci_runs_the_readme_test_command() -> None:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [ln for ln in block.strip().splitlines() if ln.strip()]
    assert len(lines) == 2
    test_cmd = lines[1].split("&&", 1)[1].strip()
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text("utf-8")
    assert test_cmd in ci.splitlines()
