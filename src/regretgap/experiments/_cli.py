"""The experiments' standalone entry: ``python -m regretgap.experiments.NAME [--help]``.

:func:`cli` builds an argparse parser from an experiment's ``Args`` dataclass: one option
per field, its type and default from the field's default, its help from the docstring
under the field (CleanRL's ``Args`` convention). Each experiment module only adds::

    if __name__ == "__main__":
        from regretgap.experiments._cli import cli
        raise SystemExit(cli(Args, main, __doc__))
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from regretgap.errors import ValidationError


def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (``{}`` if the source is gone)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def build_parser(args_cls: type, *, prog: str, description: str) -> argparse.ArgumentParser:
    """One option per field of ``args_cls`` (a dataclass whose fields all have defaults)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    docs = field_docs(args_cls)
    for f in dataclasses.fields(args_cls):
        default = f.default
        if default is dataclasses.MISSING:
            continue
        flag = "--" + f.name.replace("_", "-")
        text = docs.get(f.name, f.name)
        if isinstance(default, bool):
            action = "store_true" if not default else argparse.BooleanOptionalAction
            parser.add_argument(flag, action=action, default=default, help=text)
        elif isinstance(default, tuple) and default and isinstance(default[0], tuple):
            # a tuple of pairs such as ((8, 4), (16, 8)): each value written "8,4"
            parser.add_argument(
                flag,
                type=_pair_parser(default[0]),
                nargs="+",
                default=default,
                help=f"{text} (comma-separated; default: "
                f"{' '.join(','.join(map(str, d)) for d in default)})",
            )
        elif isinstance(default, tuple):
            kind = type(default[0]) if default else str
            parser.add_argument(
                flag,
                type=kind,
                nargs="+",
                default=default,
                help=f"{text} (default: {' '.join(map(str, default))})",
            )
        else:
            # an optional text field (default None, e.g. reproduce's ray) takes a string
            kind = Path if isinstance(default, Path) else str if default is None else type(default)
            parser.add_argument(
                flag, type=kind, default=default, help=f"{text} (default: {default})"
            )
    return parser


def _pair_parser(example: tuple) -> Callable[[str], tuple]:
    """Parse ``"a,b"`` into a tuple typed like ``example``."""

    def parse(text: str) -> tuple:
        parts = text.split(",")
        if len(parts) != len(example):
            raise argparse.ArgumentTypeError(
                f"expected {len(example)} comma-separated values, got {text!r}"
            )
        return tuple(type(e)(p) for e, p in zip(example, parts, strict=True))

    return parse


def cli(
    args_cls: type,
    main: Callable[[Any], Any],
    doc: str | None,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` into ``args_cls``, run ``main``; returns the exit status.

    A bad argument or input prints one line on standard error and returns 2.
    """
    module = getattr(main, "__module__", "experiment")
    spec = getattr(sys.modules.get(module), "__spec__", None)
    module = getattr(spec, "name", None) or module  # "__main__" under python -m
    parser = build_parser(args_cls, prog=f"python -m {module}", description=(doc or "").strip())
    ns = parser.parse_args(argv)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(ns).items()}
    try:
        main(args_cls(**values))
    except ValidationError as exc:
        print(f"{parser.prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    return 0
