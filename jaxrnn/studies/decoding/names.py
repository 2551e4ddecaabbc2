"""Names of the decoding study's saved arrays and figures, used by compute, claims and figures alike.

Axes: ``model`` (the GRUs: row = noise share index x n_sources + source), ``source``, ``alpha`` (length
penalty), ``beam_rule``, ``beam_width``, ``setting`` (sampler settings), ``log_step`` (training curve).
Search arrays exist for two model families: ``gru__*`` over ``model`` and ``source__*`` over ``source``
(the true source decoded as its own model: no model error).
"""

# axes
MODEL, SOURCE, ALPHA, RULE, WIDTH, SETTING, LOG_STEP = ("model", "source", "alpha", "beam_rule", "beam_width",
                                                        "setting", "log_step")
FAMILIES = ("gru", "source")

# per model (GRU rows)
MODEL_SOURCE = "model_source"  # which source a GRU was trained on
MODEL_NOISE = "model_noise_share"  # its share of truncated training targets
TRAIN_LOSS = "gru_train_loss"  # (model, log_step) per-id NLL on the training batches

# search (prefix "gru__" or "source__"), dims (alpha, beam_rule, beam_width, model|source)
BEAM_SCORE = "beam_score"  # the beam's best penalised score (-inf: nothing finished)
BEAM_LENGTH = "beam_length"  # its length in ids incl. EOS (max_len if nothing finished)
BEAM_VALID = "beam_valid"  # a complete sequence possible under the true source
BEAM_TRUE_LOGP = "beam_true_logp"  # its log-probability under the true source (-inf: impossible)
SEARCH_ERROR = "search_error"  # (beam_rule, beam_width, model|source), alpha = 0: beam score < exact score
# same dims: the score gap log p(mode) - log p(beam) in nats (0: the mode found); where nothing finished within
# the cap the beam's best open prefix stands in (an upper bound on any completion: the gap is understated);
# NaN where the exact search did not finish within its node budget
SCORE_GAP = "score_gap"
BEAM_OPEN = "beam_open_raw"  # dims as BEAM_SCORE: best raw score of the beams still open at the end (-inf: none)
BEAM_FINISHED = "beam_finished"  # dims as BEAM_SCORE: something finished within the cap
BEAM_DISTINCT = "beam_distinct_tokens"  # dims as BEAM_SCORE: distinct ids in the output (token diversity)
EXACT_COMPLETE = "exact_complete"  # (model|source) the exact search finished within its node budget
EXACT_SCORE = "exact_score"  # (model|source) the exact mode's log-probability (alpha = 0)
EXACT_LENGTH = "exact_length"
EXACT_VALID = "exact_valid"
BEAM_VOCAB = "vocab_with_eos"  # scalar: V, the ids a first beam step can choose from (EOS included)
EXACT_NODES = "exact_nodes"  # prefixes expanded by branch and bound (GRUs; Viterbi for sources)

# sampling, dims (setting, model); the settings' family and value are arrays over ``setting``
SETTING_FAMILY, SETTING_VALUE = "setting_family", "setting_value"
SAMPLE_RATES = ("impossible", "nonterminating", "degenerate", "failure", "precision", "recall")
ENTROPY = "entropy_nats"  # Monte Carlo estimate of H(q) from the sampler's exact log q of each sample
MEAN_LENGTH = "mean_length"

# the true sources' own samples, dims (source,)
SOURCE_ENTROPY, SOURCE_LENGTH, SOURCE_LOOPS = "source_entropy_nats", "source_mean_length", "source_loop_rate"

# C10's figure: next-token distributions of each decoder on an untied and on a tied row of logits
C10_DECODER, C10_ID, C10_TIE_ID = "c10_decoder", "c10_id", "c10_tie_id"  # axes
C10_DECODERS = ("greedy", "top-1", "top-V", "pure sampling")
C10_UNTIED = "c10_untied"  # (decoder, id): the first GRU's first step, its most probable ids
C10_TIED = "c10_tied"  # (decoder, tie_id): the logits [1, 1, 0, -1]

FIG_SEARCH = "search.png"
FIG_TOPK_EXTREMES = "topk_extremes.png"
FIG_SAMPLING = "sampling.png"


def key(family: str, name: str) -> str:
    return f"{family}__{name}"
