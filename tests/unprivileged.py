"""Run the CLI in a process that file permissions apply to, even when the tests run as root
(CI does): root keeps its uid but loses the capabilities that bypass file permissions
(``setpriv``, util-linux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DROP_DAC = "-dac_override,-dac_read_search"


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """``python -m imgtrans *args`` without root's permission bypass: (exit code, stderr)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv (util-linux) is not installed")
        prefix = ["setpriv", f"--inh-caps={DROP_DAC}", f"--bounding-set={DROP_DAC}"]
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "imgtrans", *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stderr.decode(errors="replace")
