"""The shared figure helpers: colour scales fitted to the data, the |grad| > 1 overlay."""

import numpy as np

from jaxrnn.io import figures as F


def test_one_signed_data_gets_a_sequential_scale_fitted_to_it():
    values = np.array([[-12.0, -3.0], [-0.5, -np.inf]])
    s = F.log10_scale(values)
    assert not s["diverging"] and s["cmap"].name.startswith("viridis")
    assert (s["norm"].vmin, s["norm"].vmax) == (-12.0, -0.5)  # the data's own range, not +-30
    assert s["extend"] == "neither" and s["has_zero"]


def test_both_signs_get_a_diverging_scale_centred_on_one_and_clipping_is_reported():
    values = np.array([-80.0, -2.0, 5.0])
    s = F.log10_scale(values, floor=-30.0)
    assert s["diverging"] and s["norm"].vcenter == 0.0
    assert (s["norm"].vmin, s["norm"].vmax) == (-30.0, 5.0)
    assert s["extend"] == "min" and not s["has_zero"]
    s = F.log10_scale(values, floor=-30.0, ceil=0.0)  # a ceiling at 0: sequential, clipped at both ends
    assert not s["diverging"] and s["extend"] == "both" and s["norm"].vmax == 0.0


def test_a_shared_scale_spans_every_panel():
    s = F.log10_scale(np.array([-3.0, -1.0]), np.array([-20.0, -10.0]))
    assert (s["norm"].vmin, s["norm"].vmax) == (-20.0, -1.0)


def test_isolated_cells_above_one_get_a_marker_and_regions_do_not():
    x, y = np.arange(6.0), np.arange(5.0)
    values = np.full((5, 6), -5.0)
    values[1, 1] = 2.0  # isolated
    values[3, 3:6] = 1.0  # a region of three cells
    fig, ax = F.plt.subplots()
    F.log10_heatmap(ax, values, x, y, above_one=True)
    offsets = np.concatenate([c.get_offsets() for c in ax.collections if hasattr(c, "get_offsets")
                              and len(c.get_offsets()) and type(c).__name__ == "PathCollection"])
    F.plt.close(fig)
    assert offsets.tolist() == [[1.0, 1.0]]
    assert F.has_above_one(values) and not F.has_above_one(np.array([-1.0, -np.inf, np.nan]))
