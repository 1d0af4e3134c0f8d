"""``glassnet zoo list``: the trained models shipped with glassnet.

    glassnet zoo list                 # name, model, dataset, test accuracy, parameters
    glassnet zoo show resnet14-fashion  # its training options, classes and checksum (verified)

Use one by name anywhere a model file goes (``glassnet evaluate NAME``,
``glassnet predict NAME image.png``, ``glassnet train --finetune NAME``) or in
Python: ``glassnet.models.pretrained(NAME)``.
"""

from __future__ import annotations

import argparse
import json

from ..models.model_zoo import pretrained_path, zoo_index


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("zoo", help="the trained models shipped with glassnet",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the zoo's models").set_defaults(func=run_list)
    show = actions.add_parser("show", help="one model's entry, after checking its file's sha256")
    show.add_argument("name")
    show.set_defaults(func=run_show)
    return parser


def run_list(args) -> int:
    index = zoo_index()
    width = max((len(name) for name in index), default=4)
    print(f"{'name':<{width}}  {'model':<13} {'dataset':<14} {'test acc.':>9} {'params':>9}  about")
    for name, entry in index.items():
        print(f"{name:<{width}}  {entry['model']:<13} {entry['dataset']:<14} {100 * entry['test_accuracy']:8.2f}% "
              f"{entry['parameters']:>9,}  {entry['about']}")
    return 0


def run_show(args) -> int:
    path = pretrained_path(args.name)  # raises on an unknown name or a failed checksum
    print(json.dumps({"name": args.name, "path": str(path), "sha256 verified": True, **zoo_index()[args.name]},
                     indent=1))
    return 0
