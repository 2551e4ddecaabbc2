"""Names shared by the gradient_decay study's computation, claims and figures: each defined once.

Array and axis names are the keys of ``data.npz``; figure names are the PNG files in the results folder.
"""

# data.npz axes and arrays
T = "T"
T_CHECK = "T_check"
T_PLOT = "T_plot"
T_READ = "T_read"
A = "a"
ACT = "act"
ACT_ALL = "act_all"
ACT_DERIVATIVE = "act_derivative"
B = "b"
DECAY_RATE_LOG10 = "decay_rate_log10"
DELTA = "delta"
FTLE_WB = "ftle_wb"
H0 = "h0"
H0_FP = "h0_fp"
INPUT = "input"
LOG10_GRAD = "log10_grad"
LOG10_GRAD_FIXED_POINT = "log10_grad_fixed_point"
LOG10_GRAD_NUDGE = "log10_grad_nudge"
LOG10_GRAD_WB = "log10_grad_wb"
W = "w"
W_NUDGE = "w_nudge"
XS = "xs"

# figures
FIG_ACTIVATION_DERIVATIVES = "activation_derivatives.png"
FIG_AGREEMENT = "agreement.png"
FIG_DECAY_RATE = "decay_rate.png"
FIG_EXPLOSION_W_B = "explosion_w_b.png"
FIG_FIXED_POINT = "fixed_point.png"
FIG_FTLE_W_B = "ftle_w_b.png"
FIG_HEATMAP_W_T = "heatmap_w_T.png"

# agreement arrays over (act, input, h0, w, T_check)
LOG10_GRAD_F64_AT_CHECKS = "log10_grad_f64_at_checks"
REL_ERR = {(mode, dtype): f"rel_err_{mode}_{dtype}" for mode in ("forward", "reverse") for dtype in ("f32", "f64")}
