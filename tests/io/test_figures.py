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
    # one row (a one-value axis): no region can be drawn, so touching cells above 1 get a dot each
    fig, ax = F.plt.subplots()
    F.log10_heatmap(ax, values[3:4], x, y[3:4], above_one=True)
    dots = [c.get_offsets() for c in ax.collections if type(c).__name__ == "PathCollection"]
    F.plt.close(fig)
    assert np.concatenate(dots)[:, 0].tolist() == [3.0, 4.0, 5.0]


def test_legend_handles_name_what_the_overlay_draws():
    """A region of |grad| > 1 gets the patch, a lone cell the marker, nothing above 1 no handle."""
    below = np.full((5, 5), -3.0)
    lone = below.copy()
    lone[2, 2] = 0.5  # one cell above 0 (log10): drawn as a dot
    region = below.copy()
    region[0:2, 0:3] = 1.0  # six touching cells: drawn as a filled region
    kinds = lambda hs: [type(h).__name__ for h in hs]  # noqa: E731
    assert F.above_one_handles(below) == []
    assert kinds(F.above_one_handles(lone)) == ["Line2D"]
    assert kinds(F.above_one_handles(region)) == ["Patch"]
    assert kinds(F.above_one_handles(region, lone)) == ["Patch", "Line2D"]  # over several panels
    assert "lone grid cell" in F.above_one_handles(lone)[0].get_label()
    one_row = below[:1].copy()
    one_row[0, 1:3] = 1.0  # touching cells on a one-row grid: no region is drawn there, so each gets a dot
    assert kinds(F.above_one_handles(one_row)) == ["Line2D"]
