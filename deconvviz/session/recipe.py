"""A recipe: one command's options as a frozen dataclass, declared once, parsed from and written as argv.

Each field declared with :func:`option` is one command-line option. From those declarations a recipe class
adds its arguments to an argparse parser (:meth:`Recipe.add_arguments`), builds itself from the parsed
namespace (:meth:`Recipe.from_args`), and writes itself back as the argv that parses to an equal recipe
(:meth:`Recipe.argv`, :meth:`Recipe.shell`). That round trip is what makes a PNG's regenerating command
exact: the app and the CLI both write ``recipe.shell()``.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, Callable, ClassVar


@dataclass(frozen=True)
class Option:
    """How one recipe field meets the command line.

    ``parse`` turns an argument's text into the value (argparse's ``type``), ``format`` the value back into
    text. ``many``: the option takes one or more values (a tuple). ``switch``: a flag without a value (a bool).
    ``group``: options sharing a group name exclude each other. ``always``: written even at its default,
    for a parameter that a reader of the figure's command should see.
    """

    flag: str | None = None
    help: str | None = None
    parse: Callable[[str], Any] | None = None
    format: Callable[[Any], str] = str
    choices: tuple | None = None
    required: bool = False
    many: bool = False
    switch: bool = False
    group: str | None = None
    always: bool = False
    metavar: str | None = None


def option(default: Any = None, **how) -> Any:
    """Return a dataclass field that is a command-line option (``how``: the :class:`Option` settings).

    A ``required`` option has no default: the recipe cannot be built without it.
    """
    spec = Option(**how)
    if spec.required:
        return field(metadata={"option": spec})
    return field(default=default, metadata={"option": spec})


def flag_of(f: Field) -> str:
    """Return the command-line flag of field ``f`` (``--field-name`` unless its option names another)."""
    return f.metadata["option"].flag or "--" + f.name.replace("_", "-")


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """Base of every recipe. A subclass sets ``command`` (the subcommand) and ``summary`` (its one-line help)."""

    command: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    @classmethod
    def options(cls) -> list[tuple[Field, Option]]:
        """Return (field, option) of every option, in the order the command line lists them."""
        return [(f, f.metadata["option"]) for f in fields(cls) if "option" in f.metadata]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add one argparse argument per option to ``parser``."""
        groups: dict[str, Any] = {}
        for f, spec in cls.options():
            target = parser
            if spec.group is not None:
                if spec.group not in groups:
                    groups[spec.group] = parser.add_mutually_exclusive_group()
                target = groups[spec.group]
            kwargs: dict[str, Any] = {"dest": f.name, "help": spec.help}
            if spec.switch:
                kwargs["action"] = "store_true"
            else:
                kwargs["default"] = None if f.default is MISSING else f.default
                for key in ("choices", "metavar"):
                    if getattr(spec, key) is not None:
                        kwargs[key] = getattr(spec, key)
                if spec.parse is not None:
                    kwargs["type"] = spec.parse
                if spec.many:
                    kwargs["nargs"] = "+"
                if spec.required:
                    kwargs["required"] = True
            target.add_argument(flag_of(f), **kwargs)

    @classmethod
    def add_parser(cls, subparsers) -> argparse.ArgumentParser:
        """Add the recipe's subcommand to ``subparsers`` and return its parser."""
        parser = subparsers.add_parser(cls.command, help=cls.summary)
        cls.add_arguments(parser)
        return parser

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Recipe":
        """Return the recipe that a namespace parsed by :meth:`add_arguments`'s arguments describes."""
        values = {}
        for f, spec in cls.options():
            value = getattr(args, f.name)
            values[f.name] = tuple(value) if spec.many and value is not None else value
        return cls(**values)

    def argv(self) -> list[str]:
        """Return the command's full argv (subcommand first); options at their default are left out unless
        ``always``, None ones always."""
        out = [self.command]
        for f, spec in self.options():
            value = getattr(self, f.name)
            if value is None or (spec.switch and not value):
                continue
            if not (spec.always or spec.required) and f.default is not MISSING and value == f.default:
                continue
            flag = flag_of(f)
            if spec.switch:
                out.append(flag)
            elif spec.many:
                out += [flag, *(spec.format(v) for v in value)]
            else:
                text = spec.format(value)
                # argparse reads "--x -5" as two options; "--x=-5" is one option with its value
                out += [f"{flag}={text}"] if text.startswith("-") else [flag, text]
        return out

    def shell(self) -> str:
        """Return the ``deconvviz ...`` command line of :meth:`argv`, quoted for a POSIX shell."""
        return "deconvviz " + " ".join(shlex.quote(a) for a in self.argv())
