"""Command-line plumbing shared by every experiment: flags from a config dataclass, one-line errors.

An experiment's config is a frozen dataclass with ``default()`` and ``quick()``
classmethods and a ``validate()`` that raises ``ConfigError(option, message)``.
Every field becomes a flag (``--n-w 401``; tuples as comma lists ``--h0-values 0.5,0.9``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import typing
from pathlib import Path


class ConfigError(ValueError):
    """A bad option: ``str(err)`` is the one-line message, naming the option."""

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(f"--{option.replace('_', '-')}: {message}")


class ExperimentConfig:
    """Mixin for experiment configs (frozen dataclasses): ``default()`` and one-line validation helpers."""

    @classmethod
    def default(cls):
        return cls()

    def require_at_least(self, minimum, *names) -> None:
        for name in names:
            if getattr(self, name) < minimum:
                raise ConfigError(name, f"must be >= {minimum}, got {getattr(self, name)}")


def configure_runtime() -> None:
    """Settings every entry point applies before JAX starts its backend (the compilation cache)."""
    enable_compilation_cache()


def enable_compilation_cache() -> None:
    """Persistent XLA compilation cache (``JAXRNN_CACHE_DIR``, default ``~/.cache/jaxrnn/xla``)."""
    import jax

    path = os.environ.get("JAXRNN_CACHE_DIR", str(Path.home() / ".cache" / "jaxrnn" / "xla"))
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def _parse_value(kind, text: str, option: str):
    origin = typing.get_origin(kind)
    try:
        if origin is tuple:
            (item,) = {a for a in typing.get_args(kind) if a is not Ellipsis}
            return tuple(_parse_value(item, t.strip(), option) for t in text.split(",") if t.strip())
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        return kind(text)
    except (ValueError, TypeError):
        raise ConfigError(option, f"cannot read {text!r} as {getattr(kind, '__name__', kind)}") from None


def parse_config(config_cls, argv, prog: str):
    """(config, outdir) from argv: ``--quick`` (or ``--preset NAME``, a classmethod listed in the config's
    ``PRESETS``) picks the base config; other flags override its fields."""
    parser = argparse.ArgumentParser(prog=prog, description=(config_cls.__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the tiny config used by the tests")
    presets = tuple(getattr(config_cls, "PRESETS", ()))
    if presets:
        parser.add_argument("--preset", choices=presets, default=None, help="a named config (other flags override it)")
    parser.add_argument("--outdir", type=Path, default=None, help="output folder (default results/<name>)")
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        parser.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=None, metavar="VALUE",
                            help=f"(default {field.default!r})")
    args = parser.parse_args(argv)
    preset = getattr(args, "preset", None)
    base = config_cls.quick() if args.quick else getattr(config_cls, preset)() if preset else config_cls.default()
    overrides = {f.name: _parse_value(hints[f.name], getattr(args, f.name), f.name)
                 for f in dataclasses.fields(config_cls) if getattr(args, f.name) is not None}
    config = dataclasses.replace(base, **overrides)
    config.validate()
    return config, args.outdir


def main(name: str, config_cls, run, argv=None) -> int:
    """Entry point of ``python -m experiments.<name>``: parse, validate, run; bad input -> one line, exit 2."""
    prog = f"python -m experiments.{name}"
    try:
        config, outdir = parse_config(config_cls, sys.argv[1:] if argv is None else argv, prog)
    except ConfigError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    configure_runtime()
    run(config, outdir if outdir is not None else Path("results") / name)
    return 0
