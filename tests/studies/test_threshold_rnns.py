"""The threshold_rnns study end to end (quick config) and its claims C12-C13."""

import json

import pytest

from jaxrnn.io import results
from jaxrnn.io.config import ConfigError
from jaxrnn.io.runner import run as run_study
from jaxrnn.studies import threshold_rnns


def test_exhaustive_length_beyond_the_limit_is_refused():
    with pytest.raises(ConfigError, match="--exhaustive-length-2"):
        threshold_rnns.Config(exhaustive_length_2=14).validate()


def test_quick_end_to_end(tmp_path):
    """Also the markers, computed rather than read from the committed results: a run into a fresh
    results/ folder marks the folder as the suite's collection and its own folder with its name."""
    root = tmp_path / "results"
    summary = run_study(threshold_rnns.STUDY, threshold_rnns.Config.quick(), root / "threshold_rnns")
    for folder, experiment in ((root, None), (root / "threshold_rnns", "threshold_rnns")):
        marker = results.read_marker(folder)
        assert (marker["owner"], marker["experiment"]) == ("jaxrnn", experiment)
        assert len(marker["token"]) == 16 and int(marker["token"], 16) >= 0  # the run's random ownership token
    tmp_path = root
    assert set(summary["claims"]) == {"C12", "C13"}
    assert all(c["verdict"] == "confirmed" for c in summary["claims"].values())
    saved = json.loads((tmp_path / "threshold_rnns" / "summary.json").read_text())
    assert saved["figures"] == summary["figures"] and len(summary["figures"]) == 4
    for name in ("seed_a", "seed_b"):
        m = summary["mutations"][name]
        assert m["broken"] == m["broken_with_counterexample"] == m["counterexamples_confirmed_minimal"]
        assert summary["designs"][name]["proof_and_exhaustive_agree"]
