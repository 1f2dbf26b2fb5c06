"""The abi3 wheel installs in a fresh virtual environment and `import snuffer` works there.

.ci/run builds the wheel (maturin) and passes its path as SNUFFER_WHEEL; without it the
test is skipped (it needs a built wheel, not a source tree)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

WHEEL = os.environ.get("SNUFFER_WHEEL")


@pytest.mark.skipif(not WHEEL, reason="set SNUFFER_WHEEL to a built wheel (.ci/run does)")
def test_abi3_wheel_installs_in_a_fresh_venv(tmp_path):
    wheel = Path(WHEEL)
    assert wheel.exists(), wheel
    assert "-cp39-abi3-" in wheel.name, f"not an abi3 wheel for CPython 3.9+: {wheel.name}"
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # No index: the wheel needs nothing from a registry (its framework extras are optional).
    subprocess.run([str(py), "-m", "pip", "install", "--no-index", "--quiet", str(wheel)], check=True)
    code = (
        "import snuffer, tempfile, os\n"
        "d = tempfile.mkdtemp()\n"
        "with snuffer.Run('wheel', out_dir=os.path.join(d, 'r'), planned_steps=10, power_w=50.0) as run:\n"
        "    [run.step() for _ in range(10)]\n"
        "    assert not run.eval(0.5).should_stop\n"
        "assert os.path.exists(os.path.join(d, 'r', 'summary.json'))\n"
        "print(snuffer.__version__, snuffer.__file__)\n"
    )
    out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert str(env_dir) in out.stdout  # imported from the fresh venv, not the source tree
    assert sys.version_info >= (3, 9)
