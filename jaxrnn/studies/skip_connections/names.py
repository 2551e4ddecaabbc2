"""Names shared by the skip_connections study's computation, claims and figures: each defined once.

Array and axis names are the keys of ``data.npz``; figure names are the PNG files in the results folder.
"""

# data.npz axes and arrays
T = "T"
T_PLOT = "T_plot"
T_READ = "T_read"
ACT = "act"
DECADES_GAINED_FAIR = "decades_gained_fair"
DECAY_RATE_LOG10 = "decay_rate_log10"
EDGES = "edges"
LOG10_GRAD_MT = "log10_grad_mt"
LOG10_GRAD_WM = "log10_grad_wm"
M = "m"
M_LINE = "m_line"
M_SHARE = "m_share"
PATH_CONTRIBUTION = "path_contribution"
PATH_COUNT = "path_count"
TOTAL = "total"
W = "w"
XS = "xs"

# figures
FIG_FAIR_COMPARISON = "fair_comparison.png"
FIG_HEATMAP_M_T = "heatmap_m_T.png"
FIG_HEATMAP_W_M = "heatmap_w_m.png"
FIG_PATHS = "paths.png"
