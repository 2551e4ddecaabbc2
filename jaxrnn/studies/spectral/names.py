"""Names of the spectral study's axes, arrays and figures (used by compute, claims and figures alike).

Units are in the names: ``log10_...`` in decades, ``ln_..._per_step`` in nats per step, ``..._nats`` in nats.
"""

# axes
ACT, KIND, LAMBDA1, SEED, T_READ, RANK = "act", "kind", "lambda1", "seed", "T_read", "rank"
MODEL, SEED_GATED = "model", "seed_gated"
PROBE, H0_DRAW = "probe", "h0_draw"  # cells above the line lambda_1 > 1/gamma; draw 0 = the unperturbed run
CELL_INDEX = "cell_index"  # (act, kind, lambda1, seed): the columns of probe_cell

CELL = (ACT, KIND, LAMBDA1, SEED)

# arrays (vector RNN grid)
LAMBDA1_OF_W = "lambda1_of_W"  # (kind, lambda1, seed): the largest singular value of the float32 W used
COMPUTE_DTYPE = "compute_dtype"  # 0-d string: the working precision of every Jacobian product
LOG10_NORM = "log10_norm"  # log10 ||dh_T/dh_0||_2, CELL + (T_read,)
LN_LYAPUNOV = "ln_lyapunov_per_step"  # finite-time Lyapunov exponents at T = t_max, sorted, CELL + (rank,)
IDENTITY_RESIDUAL = "ln_det_identity_residual_nats"  # T sum(exponents) - (T ln|det W| + sum_t sum_i ln act')
IDENTITY_ALLOWANCE = "ln_det_identity_allowance_nats"
ORTHOGONALITY_ERROR = "orthogonality_error"  # max |Q_T^T Q_T - I|
IDENTITY_OK = "identity_ok"  # |residual| <= allowance
ORTHOGONALITY_OK = "orthogonality_ok"  # orthogonality_error <= 4 n eps
BOUND_OK = "bound_ok"  # log10 ||dh_T/dh_0|| <= T log10(gamma lambda_1) + T 4 n eps / ln 10 at every read
FINITE = "finite"  # every norm, exponent and residual finite
CELL_VALID = "cell_valid"  # all four: the cells every summary number is taken over
CHAOS_CLASS = "chaos_class"  # contracting / edge / chaotic (from the top exponent over the h0 draws)

# arrays (h0 perturbations of the cells above the line)
PROBE_CELL = "probe_cell"  # (probe, 4): indices into act, kind, lambda1, seed
PROBE_LOG10_NORM = "probe_log10_norm_at_t_max"  # (probe, h0_draw)
PROBE_LN_TOP = "probe_ln_top_lyapunov_per_step"  # (probe, h0_draw)
PROBE_VALID = "probe_valid"  # (probe, h0_draw)

# arrays (GRU / LSTM at initialisation)
GATED_STATE = "gated_state"  # (model,): the state whose Jacobian is taken: "h" (GRU), "(h, c)" (LSTM)
LOG10_NORM_GATED = "log10_norm_gated"  # log10 ||ds_T/ds_0||_2 of that state, (model, seed_gated, T_read)
ORTHOGONALITY_ERROR_GATED = "orthogonality_error_gated"
GATED_VALID = "gated_valid"

CHAOS_CLASSES = ("contracting", "undetermined", "chaotic")

# figures
FIG_HEATMAP = "heatmap_lambda_T.png"
FIG_LYAPUNOV = "lyapunov.png"
FIG_GATED = "gated_at_init.png"
FIG_CHAOS = "chaos_spread.png"
