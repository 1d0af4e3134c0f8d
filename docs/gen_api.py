"""Build-time pages: the API reference, one page per layer of glassnet, one section per module,
rendered by mkdocstrings from the docstrings (formulas, shapes, examples)."""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

SRC = Path(__file__).resolve().parents[1] / "src" / "glassnet"
PAGES = {  # page -> (title, modules or packages, in the order of the layers)
    "tensor": ("Tensor and autograd", ["glassnet.tensor", "glassnet.gradcheck", "glassnet.random", "glassnet.backend"]),
    "functional": ("Functional ops", ["glassnet.functional"]),
    "nn": ("Layers (nn)", ["glassnet.nn"]),
    "init": ("Initialization", ["glassnet.init"]),
    "optim": ("Optimizers and schedules", ["glassnet.optim"]),
    "train": ("Training", ["glassnet.train"]),
    "data": ("Data", ["glassnet.data"]),
    "io": ("Model files and checkpoints", ["glassnet.io"]),
    "models": ("Ready-made models", ["glassnet.models"]),
}


def modules_of(name: str) -> list[str]:
    """``name`` itself if it is a module, else its public submodules (sorted)."""
    folder = SRC.joinpath(*name.split(".")[1:])
    if not folder.is_dir():
        return [name]
    return [f"{name}.{p.stem}" for p in sorted(folder.glob("*.py")) if not p.stem.startswith("_")]


nav = mkdocs_gen_files.Nav()
for page, (title, names) in PAGES.items():
    lines = [f"# {title}", ""]
    for name in names:
        for module in modules_of(name):
            lines += [f"::: {module}", "    options:", "      heading_level: 2", ""]
    with mkdocs_gen_files.open(f"api/{page}.md", "w") as f:
        f.write("\n".join(lines))
