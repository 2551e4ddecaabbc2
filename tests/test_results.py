import json

import numpy as np
import pytest

from jaxrnn import report
from jaxrnn.results import Dataset, staged, write_json


def test_dataset_roundtrip_keeps_axes_and_dims(tmp_path):
    ds = Dataset()
    ds.add_axis("w", np.linspace(-1, 1, 3))
    ds.add_axis("T", np.arange(1, 5))
    ds.add_axis("act", np.array(["sigmoid", "tanh"]))
    ds.add("grad", ("act", "w", "T"), np.arange(24.0).reshape(2, 3, 4))
    with pytest.raises(ValueError, match="does not match dims"):
        ds.add("bad", ("w", "T"), np.zeros((4, 3)))
    ds.save(tmp_path / "d.npz")
    back = Dataset.load(tmp_path / "d.npz")
    assert back.dims("grad") == ("act", "w", "T")
    np.testing.assert_array_equal(back["grad"], ds["grad"])
    assert back["act"].tolist() == ["sigmoid", "tanh"]


def test_interrupted_write_leaves_earlier_results_intact(tmp_path):
    out = tmp_path / "exp"
    with staged(out) as stage:
        (stage / "a.txt").write_text("first")
    with pytest.raises(KeyboardInterrupt):
        with staged(out) as stage:
            (stage / "a.txt").write_text("half-written")
            raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["exp"]  # no staging debris
    with staged(out) as stage:
        (stage / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]


def test_json_keeps_non_finite_visible(tmp_path):
    write_json(tmp_path / "s.json", {"x": float("inf"), "y": [float("nan"), 1.0], "z": np.float32(2.5)})
    assert json.loads((tmp_path / "s.json").read_text()) == {"x": "inf", "y": ["nan", 1.0], "z": 2.5}


def test_report_lists_every_claim(tmp_path):
    (tmp_path / "exp").mkdir()
    write_json(tmp_path / "exp" / "summary.json", {
        "figures": ["f.png"],
        "claims": {"C2": {"verdict": "confirmed", "key_number": "0 violations", "evidence": "e",
                          "figure": "exp/f.png", "test": "tests/t.py::t"}}})
    text = report.write(tmp_path).read_text()
    rows = [line for line in text.splitlines() if line.startswith("| C")]
    assert len(rows) == 13
    assert "**confirmed**" in rows[1] and "0 violations" in rows[1]
    assert all("not yet measured" in r for i, r in enumerate(rows) if i != 1)
    assert "![exp/f.png](exp/f.png)" in text
