"""The committed results are what the code computes from them: each study's claims (spectral's whole
summary), recomputed from the committed ``data.npz``, ``summary.json`` and ``config.json``, equal the
committed ones to the last digit. A change to a claim function that was not followed by a ``make sweep``
fails here, and so does any mutant of the code between the saved data and the published verdicts (the
functions that ``tests/studies/test_claims_known_data.py`` and the studies' known-data tests reach only
through their end-to-end runs)."""

import importlib
import json
from pathlib import Path

import pytest

from jaxrnn.io import results
from jaxrnn.io.results import Dataset

ROOT = Path(__file__).resolve().parents[2] / "results"


def _tuples(value):
    """config.json stores tuples as lists; the configs hold tuples (nested for e.g. cliff_starts)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def committed(study: str):
    folder = ROOT / study
    if not (folder / "summary.json").is_file():
        pytest.skip(f"no committed results/{study}")
    package = importlib.import_module(f"jaxrnn.studies.{study}")
    saved = json.loads((folder / "config.json").read_text())["config"]
    config = package.STUDY.config(**{k: _tuples(v) for k, v in saved.items()})
    config.validate()
    summary = json.loads((folder / "summary.json").read_text())
    return Dataset.load(folder / "data.npz"), summary, config


def int_keys(obj):
    """JSON turned gradient_decay's int dict keys (lengths T) into strings: turn them back."""
    if isinstance(obj, dict):
        return {(int(k) if isinstance(k, str) and k.isdigit() else k): int_keys(v) for k, v in obj.items()}
    return [int_keys(v) for v in obj] if isinstance(obj, list) else obj


def select(ds: Dataset, index_by_axis: dict) -> Dataset:
    """A copy of ``ds`` cut along some axes: {axis name: index (list, boolean mask or slice)}; every array
    with that axis is cut alike, the other axes and arrays are kept."""
    out = Dataset()
    for name, values in ds.axes.items():
        out.add_axis(name, values[index_by_axis[name]] if name in index_by_axis else values)
    for name, (dims, values) in ds.arrays.items():
        for i, d in enumerate(dims):  # one axis at a time: two index lists in one tuple would pair up
            if d in index_by_axis:
                values = values[(slice(None),) * i + (index_by_axis[d],)]
        out.add(name, dims, values)
    return out


def as_published(obj):
    """What ``results.write_json`` would write, read back."""
    return json.loads(json.dumps(results._jsonable(obj), allow_nan=False))


def recompute(study: str, ds, summary: dict, cfg):
    claims = importlib.import_module(f"jaxrnn.studies.{study}.claims")
    before = {k: v for k, v in summary.items() if k not in ("claims", "figures")}  # as compute passed it
    return {
        "gradient_decay": lambda: claims.claims(int_keys(before)),  # its lengths T key dicts
        "skip_connections": lambda: claims.claims(before, cfg),
        "threshold_rnns": lambda: claims.claims(before),
        "clipping": lambda: claims.claims(ds, before, cfg),
        "teacher_forcing": lambda: claims.claims(ds, cfg),
        "decoding": lambda: claims.claims(before, cfg),
    }[study]()


@pytest.mark.parametrize("study", ["gradient_decay", "skip_connections", "threshold_rnns", "clipping",
                                   "teacher_forcing", "decoding"])
def test_committed_claims_are_what_the_code_computes_from_the_committed_data(study):
    ds, summary, cfg = committed(study)
    again = as_published(recompute(study, ds, summary, cfg))
    assert again.keys() == summary["claims"].keys()
    for cid in again:
        assert again[cid] == summary["claims"][cid], f"{study} {cid}: rerun make sweep, or a claim changed"


def test_committed_spectral_summary_is_what_the_code_computes_from_the_committed_data():
    ds, summary, cfg = committed("spectral")
    claims = importlib.import_module("jaxrnn.studies.spectral.claims")
    again = as_published(claims.summarise(ds, cfg, summary["eps"]))
    for key in again:
        assert again[key] == summary[key], key
