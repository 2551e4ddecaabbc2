"""Names of the teacher_forcing study's axes, arrays and figures (used by compute, claims and figures)."""

# axes
TASK = "task"  # conditional tasks: reverse, sort, running_sum
REGIME = "regime"  # teacher forcing, free running, linear, exponential, inverse sigmoid
SEED = "seed"  # reported seeds (shared across regimes and tasks: paired)
LOG_STEP = "log_step"  # index 1..P of a learning-curve point (digit tasks; updates done: UPDATES)
SRC_LOG_STEP = "source_log_step"  # the same on the source
OUT_POS = "output_position"  # 1..m digits, m + 1 = EOS
POSITION = "position"  # source: index t of the predicted id (0 = first)
LR_TASK = "lr_task"  # reverse, sort, running_sum, source
TUNE_LR = "tune_lr"  # learning-rate grid of the selection run
TUNE_SEED = "tune_seed"

# conditional tasks (dims: task, regime, seed, ...)
UPDATES = "updates"  # (task, log_step): Adam updates done at each curve point (the families differ)
EPS = "eps"  # (task, regime, log_step): probability of feeding the true token at the last update before it
LR = "lr"  # (lr_task, regime): Adam learning rate used
TRAIN_LOSS = "train_loss"  # (task, regime, seed, log_step): NLL per scored token under the regime's inputs
CURVE_ACC_OWN = "curve_acc_own"  # (task, regime, seed, log_step, output_position): greedy, own prefixes
CURVE_ACC_ORACLE = "curve_acc_oracle"  # (task, regime, seed, log_step, output_position): true prefixes
ACC_OWN = "acc_own"  # (task, regime, seed, output_position): final, own prefixes (greedy)
ACC_ORACLE = "acc_oracle"  # (task, regime, seed, output_position): final, true prefixes
SEQ_OWN = "seq_own"  # (task, regime, seed): whole output right, own prefixes (greedy; deterministic targets:
SEQ_ORACLE = "seq_oracle"  # the same event as with true prefixes, so it measures fit, never exposure bias)

# stochastic source (dims: regime, seed, ...)
SRC_EPS = "source_eps"  # (regime, source_log_step)
SRC_TRAIN_LOSS = "source_train_loss"  # (regime, seed, source_log_step)
SRC_CURVE_NLL = "source_curve_nll"  # (regime, seed, source_log_step): teacher-forced NLL per id, held-out samples
SRC_KL_TRUE = "source_kl_true_sum"  # (regime, seed, position): sum over true samples of KL_t on true prefixes
SRC_N_TRUE = "source_n_true"  # (regime, seed, position): true samples scored at t (t < length)
SRC_KL_OWN = "source_kl_own_sum"  # (regime, seed, position): sum over own samples with a possible prefix
SRC_N_OWN = "source_n_own"  # (regime, seed, position): own samples with a possible prefix at t
SRC_N_IMPOSSIBLE = "source_n_impossible"  # (regime, seed, position): own samples already impossible at t
SRC_SEQ_KL = "source_seq_kl"  # (regime, seed): KL of the true source truncated at sample_len ids (MC mean)
SRC_SEQ_KL_SE = "source_seq_kl_se"  # (regime, seed): its Monte Carlo standard error (independent samples)
SRC_NLL = "source_fresh_nll"  # (regime, seed): teacher-forced NLL per id on fresh true samples
SRC_UNFINISHED = "source_unfinished"  # (seed,): share of true samples without EOS within sample_len (kept)
SRC_OWN_IMPOSSIBLE = "source_own_impossible"  # (regime, seed): share of own samples that become impossible

# learning-rate selection (only with --select-lr)
TUNE_SCORE = "tune_score"  # (lr_task, regime, tune_lr, tune_seed): selection criterion (higher is better)

# figures
FIG_CURVES = "learning_curves.png"
FIG_EXPOSURE = "exposure_by_position.png"
FIG_REGIMES = "regimes.png"
FIG_SOURCE = "source_counter_condition.png"
