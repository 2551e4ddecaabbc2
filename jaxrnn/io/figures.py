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

LOG10_RANGE = 30.0  # colour scale of log10 |gradient| heatmaps: +-30 decades, beyond is clipped (and marked)


def save_figure(fig, folder: Path, name: str) -> str:
    """Save ``fig`` as ``folder/name`` and close it; returns the file name."""
    fig.savefig(Path(folder) / name, dpi=110)
    plt.close(fig)
    return name


def integer_axis(ax, which: str = "x") -> None:
    """Integer ticks only (positions, lengths, widths)."""
    (ax.xaxis if which == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))


def log10_heatmap(ax, values, x, y, *, vmax=LOG10_RANGE, cmap="RdBu_r"):
    """log10 |grad| image over (y, x); -inf (exact zero) shows grey; contour at 10^0."""
    img = np.ma.masked_invalid(np.where(np.isneginf(values), np.nan, values))
    cm = plt.get_cmap(cmap).with_extremes(bad="0.6")
    im = ax.pcolormesh(x, y, img, cmap=cm, vmin=-vmax, vmax=vmax, shading="nearest", rasterized=True)
    if np.nanmax(np.where(np.isfinite(values), values, np.nan)) > 0 > np.nanmin(values):
        ax.contour(x, y, np.nan_to_num(values, neginf=-1e9), levels=[0.0], colors="k", linewidths=0.7)
    return im
