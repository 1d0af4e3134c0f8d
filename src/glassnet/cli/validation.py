"""Option values checked once, the same way from the command line and from a TOML config.

Each check is an argparse ``type=`` converter: it takes the text of the
option and returns the value, or raises :class:`OptionError` with a one-line
message saying what was expected and what came. :func:`harden` gives every
option of a parser its check: by the option's name from :data:`CHECKS`
(``--lr`` a positive finite number, ``--limit`` a positive integer, ...), and
otherwise from its ``type`` (``float`` becomes a finite float). A TOML config
goes through the same parser's options with :func:`check_config`, so
``epochs = "3"`` is read as ``--epochs 3`` is, and ``lr = "abc"``,
``optimizer = "foo"`` or ``epochs = true`` get the command line's message,
naming the key and the file.
"""

from __future__ import annotations

import argparse
import math
import os


class OptionError(argparse.ArgumentTypeError, ValueError):
    """An option value that glassnet refuses (argparse prints the message as it is)."""


def _number(text, kind: type, what: str):
    if isinstance(text, bool):
        raise OptionError(f"expected {what}, got {text!r}")
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise OptionError(f"expected {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise OptionError(f"expected {what}, got {text!r} (not finite)")
    return value


def _checked(name: str, kind: type, what: str, accept=None):
    """The check ``name``: text -> ``kind``, refusing what is not a ``kind`` and,
    if ``accept`` is given, a value ``accept(value)`` rejects, with the message
    "expected <what>, got <value>" (floats shown with ``:g``)."""
    def check(text):
        value = _number(text, kind, what)
        if accept is not None and not accept(value):
            raise OptionError(f"expected {what}, got {value:g}" if kind is float else f"expected {what}, got {value}")
        return value
    check.__name__ = check.__qualname__ = name  # argparse and tracebacks name the check
    return check


integer = _checked("integer", int, "an integer")
positive_int = _checked("positive_int", int, "a positive integer", lambda v: v >= 1)
non_negative_int = _checked("non_negative_int", int, "an integer >= 0", lambda v: v >= 0)
finite_float = _checked("finite_float", float, "a finite number")
positive_float = _checked("positive_float", float, "a positive number", lambda v: v > 0)
non_negative_float = _checked("non_negative_float", float, "a number >= 0", lambda v: v >= 0)
probability = _checked("probability", float, "a probability in [0, 1)", lambda v: 0 <= v < 1)


def thread_count(text) -> str | int:
    if str(text) == "auto":
        return "auto"
    try:
        return positive_int(text)
    except OptionError:
        raise OptionError(f"expected a positive number of threads or 'auto', got {text!r}") from None


def existing_dir(text) -> str:
    if not isinstance(text, str) or not os.path.isdir(text):
        raise OptionError(f"expected an existing folder, got {text!r}"
                          + ("" if not isinstance(text, str) or not os.path.exists(text) else " (not a folder)"))
    return text


def layer_sizes(text) -> str:
    if not isinstance(text, str) or not text or not all(c.isdigit() or c in "-," for c in text):
        raise OptionError(f"expected layer sizes such as '784-100-10', got {text!r}")
    return text


#: the check of each option, by its argparse ``dest``
CHECKS = {
    "arch": layer_sizes,
    **dict.fromkeys(("batch_size", "limit", "test_limit", "per_class", "embed_dim", "maps", "sg_epochs"),
                    positive_int),
    **dict.fromkeys(("epochs", "seed", "val", "augment", "early_stopping"), non_negative_int),
    "lr": positive_float,
    **dict.fromkeys(("momentum", "weight_decay", "l1", "l2", "max_norm", "body_lr_scale"), non_negative_float),
    **dict.fromkeys(("dropout", "input_dropout", "warmup"), probability),
    "threads": thread_count,
    "data_dir": existing_dir,
}
_BY_TYPE = {float: finite_float, int: integer}


def harden(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give each option of ``parser`` (and of its subcommands) its check; returns ``parser``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                harden(sub)
        elif action.option_strings and action.nargs != 0:
            check = CHECKS.get(action.dest, _BY_TYPE.get(action.type))
            if check is not None:
                action.type = check
    return parser


def check_config(parser: argparse.ArgumentParser, options: dict, source) -> dict:
    """The values of a TOML config (keys: option names, ``-`` or ``_``), each
    checked and converted as the same option of ``parser`` on the command
    line; raises OptionError naming ``source``, the key, what was expected and
    what came."""
    by_dest = {a.dest: a for a in parser._actions if a.option_strings}
    checked = {}
    for key, value in options.items():
        action = by_dest.get(key.replace("-", "_"))
        if action is None:  # unknown keys are the caller's to report
            checked[key] = value
            continue
        try:
            checked[key] = _check_value(action, value)
        except OptionError as e:
            raise OptionError(f"{source}: {key}: {e}") from None
    return checked


def _check_value(action: argparse.Action, value):
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):  # a flag
        if not isinstance(value, bool):
            raise OptionError(f"expected true or false, got {value!r}")
        return value
    if isinstance(value, (list, dict)) or value is None:
        raise OptionError(f"expected a single value, got {value!r}")
    if action.dest == "arch" and not isinstance(value, str):
        raise OptionError(f"expected layer sizes as a string such as '784-100-10', got {value!r}")
    if isinstance(value, bool) and action.type in (None, str):
        raise OptionError(f"expected a value such as --{action.dest.replace('_', '-')} takes, got {value!r}")
    # a number as its text, as the command line passes it (True stays True: the checks refuse it)
    converted = action.type(value if isinstance(value, (str, bool)) else str(value)) if action.type else str(value)
    if action.choices is not None and converted not in action.choices:
        raise OptionError(f"expected one of {', '.join(map(str, action.choices))}, got {value!r}")
    return converted
