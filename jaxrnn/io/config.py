"""Study configs declared once: each field carries its type, constraint and help; the CLI is generated.

A study's ``Config`` is a frozen dataclass deriving from :class:`StudyConfig` whose fields are
made with :func:`field`::

    n_w: int = field(401, "number of w grid points", at_least(2))
    w_min: float = field(-12.0, "smallest recurrent weight w", between(-1e3, 1e3))
    activations: tuple[str, ...] = field(("sigmoid", "tanh"), "activations to sweep", one_of(...))

Rules applied to every field, whatever its constraint:

- ``float`` values must be finite (NaN and +-inf are refused everywhere);
- ``int`` values must be integers (``1.5`` and ``True`` are refused);
- tuples must be non-empty, and the constraint applies to every element.

Relations between fields (``w_min < w_max``) are listed in the class attribute ``RELATIONS`` as
``(field, predicate(config) -> bool, message)``; the error names ``field``.
``validate()`` checks all of it in one place and raises :class:`ConfigError`, whose text is the
one line a user sees: ``--n-w: must be an integer >= 2, got 0``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import sys
import typing
from typing import Any, Callable, NamedTuple


class ConfigError(ValueError):
    """A bad option: ``str(err)`` is the one-line message, naming the option's flag."""

    def __init__(self, option: str, message: str):
        self.option = option
        self.flag = flag_name(option)
        super().__init__(f"{self.flag}: {message}")


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


class Check(NamedTuple):
    """A constraint on one value: ``ok(value) -> bool`` and the text that says what is allowed."""

    ok: Callable[[Any], bool]
    text: str


def between(lo=None, hi=None, *, lo_open: bool = False, hi_open: bool = False) -> Check:
    """lo <= v <= hi (``lo_open``/``hi_open``: strict); None leaves that side free."""

    def ok(v):
        return ((lo is None or (v > lo if lo_open else v >= lo))
                and (hi is None or (v < hi if hi_open else v <= hi)))

    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {exact(lo)}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {exact(hi)}")
    return Check(ok, " and ".join(parts) if parts else "any value")


def exact(x) -> str:
    """A bound as text that reads back as the same number: 16777216, 0.001, 1e-06 (never rounded)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def at_least(lo) -> Check:
    return between(lo)


def positive(hi=None) -> Check:
    return between(0, hi, lo_open=True)


def one_of(*choices) -> Check:
    return Check(lambda v: v in choices, "one of " + ", ".join(map(str, choices)))


ANY = Check(lambda v: True, "any value")


def field(default, help: str, check: Check = ANY, *, distinct: bool | None = None):
    """A config field with its help text and constraint (for tuples: per element).

    ``distinct``: the values of a list must differ; the default for every list field (a grid point
    given twice would be computed twice and counted twice). ``distinct=False`` for per-item lists
    whose values may repeat (e.g. one learning rate per regime)."""
    return dataclasses.field(default=default, metadata={"help": help, "check": check, "distinct": distinct})


# ---------------------------------------------------------------------------
# Types: what a field holds, how its text parses, how a value is checked.
# ---------------------------------------------------------------------------

def _element_type(hint) -> tuple[Any, bool]:
    """(element type, is_tuple) of a field's type hint; an element may itself be a tuple type
    (``tuple[float, ...]`` or a fixed ``tuple[str, float]``), written ``a,b;c,d`` on the command line."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0], True
    return hint, False


def _inner_types(kind, n: int) -> tuple:
    """Types of the n items of a tuple-valued element (``tuple[float, ...]`` or ``tuple[str, float]``)."""
    args = typing.get_args(kind)
    if len(args) == 2 and args[1] is Ellipsis:
        return (args[0],) * n
    return args


def _type_word(kind) -> str:
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        inner = "numbers" if args == (float, Ellipsis) else "(" + ", ".join(
            _type_word(a).split()[-1] for a in args) + ")"
        return f"a group of {inner}"
    return {int: "an integer", float: "a finite number", str: "a word", bool: "true or false"}[kind]


def _check_type(kind, v) -> bool:
    if typing.get_origin(kind) is tuple:
        if not isinstance(v, tuple) or not v:
            return False
        types = _inner_types(kind, len(v))
        return len(types) == len(v) and all(_check_type(k, x) for k, x in zip(types, v))
    if kind is bool:
        return isinstance(v, bool)
    if kind is int:
        return isinstance(v, int) and not isinstance(v, bool)
    if kind is float:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return isinstance(v, kind)


# Numbers are read the same way for every type: ASCII digits only, no "_" separators ("1_0" is refused for
# integers and floats alike), an optional sign; floats also take a point, an exponent, inf and nan.
_FLOAT = re.compile(r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)


def is_distinct(f: dataclasses.Field, is_tuple: bool) -> bool:
    d = f.metadata.get("distinct")
    return is_tuple if d is None else bool(d)


def _parse_one(kind, text: str):
    text = text.strip()
    if typing.get_origin(kind) is tuple:
        parts = text.split(",")
        types = _inner_types(kind, len(parts))
        if len(types) != len(parts):
            raise ValueError
        return tuple(_parse_one(k, x) for k, x in zip(types, parts))
    if kind is bool:
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError
    if kind is int:
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError
        return int(text)
    if kind is float:  # nan / inf parse here and are refused by validation with a clear message
        if not _FLOAT.fullmatch(text):
            raise ValueError
        return float(text)
    return text


def parse_field(cls, name: str, text: str):
    """The value of field ``name`` from its command-line text (tuples: comma lists, empty text -> ())."""
    kind, is_tuple = _element_type(typing.get_type_hints(cls)[name])
    try:
        if is_tuple:
            sep = ";" if typing.get_origin(kind) is tuple else ","
            return tuple(_parse_one(kind, part) for part in text.split(sep)) if text.strip() else ()
        return _parse_one(kind, text)
    except ValueError:
        raise ConfigError(name, f"cannot read {text!r} as {_type_word(kind)}"
                          + (" (list: a;b;c of comma groups)" if typing.get_origin(kind) is tuple
                             else " (comma list)" if is_tuple else "")) from None


def describe(cls, f: dataclasses.Field) -> str:
    """Help line of a field: meaning, allowed values, default."""
    kind, is_tuple = _element_type(typing.get_type_hints(cls)[f.name])
    check: Check = f.metadata.get("check", ANY)
    allowed = _type_word(kind) + ("" if check is ANY else f" {check.text}")
    if is_tuple:
        lst = "list a;b of comma groups" if typing.get_origin(kind) is tuple else "comma list"
        allowed = f"{lst}, each " + allowed + (", all different" if is_distinct(f, True) else ", may repeat")
    if is_tuple and typing.get_origin(kind) is tuple:
        default = ";".join(",".join(map(str, item)) for item in f.default)
    else:
        default = ",".join(map(str, f.default)) if is_tuple else f.default
    return f"{f.metadata.get('help', '')} [{allowed}; default {default}]"


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Base of every study config: presets, and validation of every declared field in one place."""

    RELATIONS: typing.ClassVar[tuple] = ()
    PRESETS: typing.ClassVar[tuple[str, ...]] = ()

    @classmethod
    def default(cls):
        return cls()

    @classmethod
    def quick(cls):  # pragma: no cover - every study defines its own
        raise NotImplementedError

    def validate(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            kind, is_tuple = _element_type(hints[f.name])
            value = getattr(self, f.name)
            check: Check = f.metadata.get("check", ANY)
            values = value if is_tuple else (value,)
            if is_tuple and not isinstance(value, tuple):
                raise ConfigError(f.name, f"must be a comma list, got {value!r}")
            if is_tuple and not value:
                raise ConfigError(f.name, "must not be empty")
            for v in values:
                if not _check_type(kind, v):
                    raise ConfigError(f.name, f"must be {_type_word(kind)}, got {v!r}")
                if not check.ok(v):
                    raise ConfigError(f.name, f"must be {check.text}, got {v!r}")
            if is_tuple and is_distinct(f, True) and len(set(values)) != len(values):
                repeated = next(v for v in values if values.count(v) > 1)
                raise ConfigError(f.name, f"values must all differ, got {exact(repeated)} more than once")
        for name, predicate, message in self.RELATIONS:
            if not predicate(self):
                raise ConfigError(name, message)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------
# The command line, generated from the dataclass.
# ---------------------------------------------------------------------------

class OneLineError(Exception):
    """A command-line error: the one line to print (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the whole usage; one line is enough
        raise OneLineError(message)


_NUMBER = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


def _join_negative_values(argv: list[str], flags: set[str]) -> list[str]:
    """``--nudge-ws -8,6`` -> ``--nudge-ws=-8,6``: argparse would read ``-8,6`` as an option."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a in flags and i + 1 < len(argv) and _NUMBER.match(argv[i + 1]):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def build_parser(cls, prog: str, description: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=description, allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="the tiny config the tests run (writes results/quick/NAME)")
    if cls.PRESETS:
        parser.add_argument("--preset", choices=cls.PRESETS, default=None,
                            help="a named config; other flags override its fields")
    parser.add_argument("--outdir", default=None,
                        help="output folder: a new path, or one this suite wrote before (default results/NAME)")
    for f in dataclasses.fields(cls):
        parser.add_argument(flag_name(f.name), dest=f.name, default=None, metavar="VALUE",
                            help=describe(cls, f).replace("%", "%%"))  # argparse formats help with %
    return parser


class Parsed(NamedTuple):
    config: Any
    outdir: str | None
    quick: bool
    preset: str | None


def refuse_repeated_flags(argv: list[str]) -> None:
    """A flag given twice is an error (argparse would silently keep the last)."""
    seen = set()
    for a in argv:
        if a == "--":
            break
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name in seen:
                raise OneLineError(f"{name}: given more than once (give each flag once)")
            seen.add(name)


def parse_args(cls, argv: list[str], prog: str, description: str = "") -> Parsed:
    """Config and options from argv; raises ConfigError or OneLineError with the one line to print."""
    refuse_repeated_flags(list(argv))
    parser = build_parser(cls, prog, description)
    flags = {a for action in parser._actions for a in action.option_strings}
    args = parser.parse_args(_join_negative_values(list(argv), flags))
    preset = getattr(args, "preset", None)
    if args.quick and preset:
        raise OneLineError(f"--quick: cannot be combined with --preset {preset} (choose one base config)")
    base = cls.quick() if args.quick else getattr(cls, preset)() if preset else cls.default()
    overrides = {f.name: parse_field(cls, f.name, getattr(args, f.name))
                 for f in dataclasses.fields(cls) if getattr(args, f.name) is not None}
    config = dataclasses.replace(base, **overrides)
    config.validate()
    return Parsed(config, args.outdir, bool(args.quick), preset)


def print_error(prog: str, message: str) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)
