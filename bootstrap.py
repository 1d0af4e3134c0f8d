#!/usr/bin/env python3
"""Set everything up from nothing but Python 3, then run glassnet's main job or its tests.

    python3 bootstrap.py train   # venv + package + Fashion-MNIST, then `glassnet train` -> runs/default/
    python3 bootstrap.py test    # venv + package + test tools (PyTorch CPU for oracle tests), then pytest
    python3 bootstrap.py docs    # venv + package + mkdocs, then `mkdocs build --strict` -> site/
    python3 bootstrap.py lint    # venv + ruff + mypy, then `ruff check` and `mypy` ([tool.ruff], [tool.mypy])

Extra arguments after the command go to `glassnet train`, to pytest or to mkdocs
(e.g. `python3 bootstrap.py docs serve`). The
virtual environment lives in .venv/ next to this file; set GLASSNET_VENV to put
it elsewhere. Only the standard library is used here, because nothing else is
installed yet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("GLASSNET_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
SHARED_DATA = ROOT.parent / "shared" / "data"  # the project's shared test data, beside the checkout
TORCH = "torch==2.13.0"  # the CPU build; never let pip pick another version (a multi-GB CUDA build)


def say(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def run(*command, check=True) -> int:
    say(" ".join(str(c) for c in command))
    return subprocess.run([str(c) for c in command], cwd=ROOT, check=check).returncode


def ensure_venv() -> None:
    if not PYTHON.exists():
        say(f"creating a virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)


def pip_install(*requirements: str, check=True) -> int:
    return run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements, check=check)


def ensure_package(extras: str = "") -> None:
    ensure_venv()
    pip_install("-e", f".{extras}")


def apt_install(what: str, *packages: str) -> bool:
    """Install ``what`` from Debian's ``packages`` when we can (apt-get, as root); whether it worked."""
    if not (shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0):
        return False
    say(f"installing {what} from Debian ({', '.join(packages)})")
    return run("apt-get", "install", "-y", "-q", *packages, check=False) == 0


def ensure_open_mpi() -> None:
    """Open MPI (mpirun and the library mpi4py loads) for data-parallel training
    and its tests: Debian's packages when we can install them."""
    if shutil.which("mpirun"):
        return
    if not apt_install("Open MPI", "openmpi-bin", "libopenmpi-dev"):
        say("Open MPI could not be installed: the data-parallel (MPI) tests will be skipped")


def ensure_graphviz() -> None:
    """Graphviz's ``dot``, which renders glassnet.viz graphs to SVG/PNG (the DOT text needs nothing)."""
    if shutil.which("dot"):
        return
    if not apt_install("Graphviz", "graphviz"):
        say("Graphviz could not be installed: the tests that render graphs to SVG will be skipped")


def ensure_fashion_mnist() -> None:
    """Debian's package when we can install it; otherwise glassnet downloads and
    md5-checks the files itself the first time a dataset is loaded."""
    system_dir = subprocess.run([str(PYTHON), "-c", "from glassnet.data.datasets import SYSTEM_DIR; print(SYSTEM_DIR)"],
                                capture_output=True, text=True, check=True).stdout.strip()
    if (Path(system_dir) / "fashion-mnist" / "train-images-idx3-ubyte.gz").exists():
        return
    if apt_install("Fashion-MNIST", "dataset-fashion-mnist"):
        return
    say("Fashion-MNIST will be downloaded (and md5-checked) into ~/.cache/glassnet on first use")


def ensure_browser() -> None:
    """Debian's chromium + chromium-driver for the playground's browser tests (selenium drives
    them headless); without them those tests skip and say why."""
    if shutil.which("chromium") and shutil.which("chromedriver"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        say("installing chromium and chromium-driver from Debian (the playground's browser tests)")
        if run("apt-get", "install", "-y", "-q", "chromium", "chromium-driver", check=False) == 0:
            return
    say("chromium/chromedriver are not installed: the playground's browser tests will be skipped")


def train(args: list[str]) -> int:
    ensure_package()
    ensure_fashion_mnist()
    return run(BIN / "glassnet", "train", *args, check=False)


def test(args: list[str]) -> int:
    ensure_open_mpi()
    ensure_graphviz()
    ensure_package("[test,mpi,onnx,viz,accel]")  # accel: numba, so the compiled kernels are tested against NumPy
    if pip_install(TORCH, check=False) != 0:
        say("PyTorch could not be installed: the oracle tests against PyTorch will be skipped")
    ensure_fashion_mnist()
    ensure_browser()
    os.environ.setdefault("GLASSNET_SHARED_DATA", str(SHARED_DATA))
    say(f"shared test data: {os.environ['GLASSNET_SHARED_DATA']}")
    return run(PYTHON, "-m", "pytest", "-q", *(args or ["-n", "2", "tests"]), check=False)


def docs(args: list[str]) -> int:
    ensure_package("[docs]")
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # mkdocs-material's notice about a future MkDocs 2
    os.environ.setdefault("DISABLE_MKDOCS_2_WARNING", "true")
    return run(BIN / "mkdocs", *(args or ["build", "--strict"]), check=False)


def lint(args: list[str]) -> int:
    ensure_package("[lint]")
    ruff = run(BIN / "ruff", "check", *(args or ["src", "tests", "scripts", "benchmarks", "docs"]), check=False)
    return run(BIN / "mypy", check=False) or ruff


def main() -> int:
    commands = {"train": train, "test": test, "docs": docs, "lint": lint}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
