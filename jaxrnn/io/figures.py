"""The suite's one figure style and the plot helpers studies share.

Figures are drawn from saved data only (each study's ``figures.draw(data, summary, folder)``).
The style: constrained layout (no text over text), readable fonts for a projector, titled panels.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

#: Okabe-Ito: distinguishable under the common colour-vision deficiencies (the suite's one palette).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
#: Every series also gets a marker and a dash pattern, so no figure depends on colour alone.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":", "-", "--", "-.", ":")
#: At most this many series share one panel; more go into small multiples.
MAX_SERIES = 4

STYLE = {
    "figure.constrained_layout.use": True,
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "legend.fontsize": 10,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.grid": False,
    "image.cmap": "viridis",
}
plt.rcParams.update(STYLE)
plt.rcParams["axes.prop_cycle"] = (
    matplotlib.cycler(color=list(OKABE_ITO)) + matplotlib.cycler(marker=list(MARKERS))
    + matplotlib.cycler(linestyle=list(DASHES))
)

LOG10_RANGE = 30.0  # log10 |gradient| colour scales stop at +-30 decades; beyond is clipped (and the bar says so)
ABOVE_ONE = OKABE_ITO[3]  # vermillion: the region |gradient| > 1 laid over a one-signed (sequential) scale
EXACT_ZERO = "0.6"  # grey: an exactly zero gradient (log10 = -inf)


def save_figure(fig, folder: Path, name: str) -> str:
    """Save ``fig`` as ``folder/name`` and close it; returns the file name."""
    fig.savefig(Path(folder) / name, dpi=110)
    plt.close(fig)
    return name


def integer_axis(ax, which: str = "x") -> None:
    """Integer ticks only (positions, lengths, widths)."""
    (ax.xaxis if which == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))


def log10_scale(*arrays, floor: float = -LOG10_RANGE, ceil: float = LOG10_RANGE, diverging_above: float = 1.0):
    """A colour scale for log10 values fitted to the data of every panel that shares it.

    The range is [max(data min, floor), min(data max, ceil)]. Values of both signs (more than
    ``diverging_above`` decades above 0) get a diverging map centred on 0 (white = 1); one-signed data
    a sequential map (viridis). Returns a dict: norm, cmap, extend (for the colour bar), diverging, and
    has_zero (an exact zero, -inf, is present: drawn grey).
    """
    from matplotlib.colors import Normalize, TwoSlopeNorm

    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    finite = vals[np.isfinite(vals)]
    dmin, dmax = (float(finite.min()), float(finite.max())) if finite.size else (floor, ceil)
    lo, hi = max(dmin, floor), min(dmax, ceil)
    if hi - lo < 1e-6:
        lo, hi = hi - 1.0, hi + (1.0 if hi < ceil else 0.0)
    diverging = lo < 0 and hi > diverging_above
    if diverging:
        norm, cmap = TwoSlopeNorm(vmin=lo, vcenter=0.0, vmax=hi), plt.get_cmap("RdBu_r")
    else:
        norm, cmap = Normalize(vmin=lo, vmax=hi), plt.get_cmap("viridis")
    low, high = dmin < lo - 1e-9, dmax > hi + 1e-9
    extend = "both" if low and high else "min" if low else "max" if high else "neither"
    return {"norm": norm, "cmap": cmap.with_extremes(bad=EXACT_ZERO), "extend": extend, "diverging": diverging,
            "has_zero": bool(np.isneginf(vals).any())}


def log10_heatmap(ax, values, x, y, *, scale=None, vmax=LOG10_RANGE, cmap=None, above_one: bool = False):
    """log10 |grad| image over (y, x) on ``scale`` (see ``log10_scale``; fitted to ``values`` if None).

    -inf (an exact zero) shows grey. ``above_one``: lay the region |grad| > 1 (log10 > 0) over the image in
    vermillion with an outline, and a marker on every isolated cell, so that even a single grid point
    shows; returns the image.
    """
    if scale is None:
        scale = log10_scale(values, floor=-vmax, ceil=vmax)
    cm = scale["cmap"] if cmap is None else plt.get_cmap(cmap).with_extremes(bad=EXACT_ZERO)
    img = np.ma.masked_invalid(np.where(np.isneginf(values), np.nan, values))
    im = ax.pcolormesh(x, y, img, cmap=cm, norm=scale["norm"], shading="nearest", rasterized=True)
    if above_one and has_above_one(values):
        mask = _above_one_mask(values)
        if min(np.shape(mask)) >= 2:  # a region needs two rows and columns (T = 1 or a one-value grid: markers)
            ax.contourf(x, y, mask.astype(float), levels=[0.5, 1.5], colors=[ABOVE_ONE])
            ax.contour(x, y, mask.astype(float), levels=[0.5], colors=[ABOVE_ONE], linewidths=1.6)
        yi, xi = np.nonzero(_dotted(mask))  # cells no region shows: a marker each, or they would not show
        if len(yi):
            ax.scatter(np.asarray(x)[xi], np.asarray(y)[yi], s=ISOLATED_SIZE, marker="o", color=ABOVE_ONE,
                       edgecolors="k", linewidths=0.5, zorder=3, clip_on=False)
    return im


ISOLATED_SIZE = 22  # scatter size (points^2) of the marker on an isolated |grad| > 1 cell


def _above_one_mask(values):
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.where(np.isposinf(values), 1.0, -1.0)) > 0


def _dotted(mask):
    """Cells of ``mask`` drawn as a dot: those with none of their 8 neighbours in it, or every cell of a grid
    with one row or column (where no region is drawn)."""
    if min(np.shape(mask)) < 2:
        return np.asarray(mask, bool)
    padded = np.pad(mask, 1)
    neighbours = sum(np.roll(np.roll(padded, i, 0), j, 1) for i in (-1, 0, 1) for j in (-1, 0, 1)
                     if (i, j) != (0, 0))[1:-1, 1:-1]
    return mask & (neighbours == 0)


def has_above_one(values) -> bool:
    """Whether any log10 value is above 0 (|grad| > 1)."""
    v = np.asarray(values, dtype=float)
    return bool((v[~np.isnan(v)] > 0).any())


def above_one_patch(label: str = r"$|dh_T/dh_0| > 1$"):
    """Legend handle of the ``above_one`` overlay."""
    from matplotlib.patches import Patch

    return Patch(facecolor=ABOVE_ONE, edgecolor=ABOVE_ONE, label=label)


def above_one_marker(label: str = r"a lone grid cell with $|dh_T/dh_0| > 1$"):
    """Legend handle of the marker ``log10_heatmap`` puts on an isolated |grad| > 1 cell."""
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="none", marker="o", ms=float(np.sqrt(ISOLATED_SIZE)), markerfacecolor=ABOVE_ONE,
                  markeredgecolor="k", markeredgewidth=0.5, label=label)


def above_one_handles(*panels, label: str = r"$|dh_T/dh_0| > 1$", what: str = r"$|dh_T/dh_0| > 1$"):
    """Legend handles for the ``above_one`` overlay of ``log10_heatmap`` on these 2-D panels (as drawn).

    A patch when some panel has a region of |grad| > 1 (two or more touching cells), a marker when some
    panel has an isolated cell (drawn as a dot); none when nothing is above 1. ``what`` names the
    condition in the marker's label.
    """
    region = isolated = False
    for values in panels:
        mask = _above_one_mask(values)
        if mask.ndim != 2:
            raise ValueError(f"above_one_handles takes 2-D panels, got shape {mask.shape}")
        lone = _dotted(mask)
        isolated |= bool(lone.any())
        region |= bool((mask & ~lone).any())
    return ([above_one_patch(label)] if region else []) + (
        [above_one_marker(f"a lone grid cell with {what}")] if isolated else [])


def log10_colorbar(fig, im, axes, scale, label: str):
    """The colour bar of a ``log10_scale``: says where it clips and what grey means."""
    notes = [{"min": "clipped below", "max": "clipped above", "both": "clipped"}.get(scale["extend"], "")]
    notes += ["grey: exactly 0"] if scale["has_zero"] else []
    notes = [n for n in notes if n]
    label = label + ("\n(" + "; ".join(notes) + ")" if notes else "")
    return fig.colorbar(im, ax=axes, label=label, extend=scale["extend"])
