"""Put trained ``glassnet train`` runs into the model zoo (``src/glassnet/models/zoo/``).

    python scripts/build_zoo.py resnet14-fashion=runs/resnet14 course-cnn-fashion=runs/book_cnn \\
        mlp-fashion=runs/mlp_onecycle

Each NAME=RUN copies ``RUN/model.safetensors`` to ``zoo/NAME.safetensors`` and
records in ``zoo/index.json`` its sha256, the run's options (``RUN/run.json``),
its measured test accuracy and wall time, and a one-line description; entries
not named are kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import glassnet
from glassnet.cli.models import describe
from glassnet.models.model_zoo import INDEX, ZOO_DIR, sha256_of, zoo_index


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entries", nargs="+", metavar="NAME=RUN")
    args = parser.parse_args(argv)
    index = zoo_index()
    ZOO_DIR.mkdir(exist_ok=True)
    for item in args.entries:
        name, _, run_dir = item.partition("=")
        run_dir = Path(run_dir)
        run = json.loads((run_dir / "run.json").read_text())
        options, results = run["options"], run["results"]
        target = ZOO_DIR / f"{name}.safetensors"
        shutil.copyfile(run_dir / "model.safetensors", target)
        model = glassnet.load(target)
        meta = glassnet.io.load_metadata(target)
        index[name] = {
            "file": target.name, "sha256": sha256_of(target), "model": options["model"],
            "dataset": meta["dataset"], "classes": meta["classes"], "test_accuracy": results["test_accuracy"],
            "parameters": model.num_parameters(), "epochs_run": results["epochs_run"],
            "wall_time_s": results["wall_time_s"], "about": describe(options, model),
            "options": {k: v for k, v in options.items() if k not in ("out", "quiet", "threads", "data-dir")},
        }
        print(f"{name}: {options['model']} on {meta['dataset']}, test accuracy {100 * results['test_accuracy']:.2f}%, "
              f"{target.stat().st_size / 1e6:.2f} MB")
    INDEX.write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main()
