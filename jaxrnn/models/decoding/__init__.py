"""Decoders over any autoregressive model, and exact search as ground truth (Problem 3).

A model is two pure functions and its parameters: ``logits_fn(params, state) -> (V,)`` next-token
logits (V ids, EOS among them) and ``transition_fn(params, state, token) -> state``. Decoders are
fixed-shape and jittable (``max_len`` steps, sequences padded with EOS after it); the two functions
are static arguments (module-level functions, so that one compilation serves every call).

Conventions follow the ecosystem's option names: ``num_beams``, ``length_penalty`` (GNMT:
``score / ((5 + len) / 6) ** length_penalty``), ``top_k``, ``top_p``, ``min_p``, ``temperature``,
``max_len``, ``eos_id``. ``len`` counts the EOS token.

Robustness rules, applied everywhere:

- Every public entry validates its options in one place (:func:`check_options`): ranges, integer
  types, ``eos_id`` in ``0..V-1``, ``vocab`` equal to the logits' last dimension.
- Sampling options are *traced values* (:class:`SamplerOptions`): one compilation per shape serves
  every temperature, top-k, top-p and min-p; ``jax.vmap`` over options sweeps them in one call.
- NaN logits are impossible tokens (-inf); a row with no possible token has log-probabilities all
  -inf (never NaN) and the decoders then emit EOS with score -inf. Rankings never see a NaN.
- Top-p is decided on the exact sums of the float32 exponentials ``e_i = exp(l_i - max)``
  (double-float prefix sums and an error-free product), so a token whose preceding mass equals p
  is never kept, whatever the rounding of a float32 cumsum would say.

The package splits by concern: ``core`` (types, validation, safe log-softmax, error-free arithmetic),
``samplers`` (greedy, sampling and the masks), ``beam`` (beam search), ``exact`` (branch and bound,
enumeration). Every name is re-exported here, so ``from jaxrnn.models.decoding import X`` keeps working.
"""

from jaxrnn.models.decoding.beam import Beams, _beam_search, beam_search, beam_search_with, length_penalty_factor
from jaxrnn.models.decoding.core import (BEAM_RULES, NEG_INF, TINY, TOP_P_TOL, Decoded, SamplerOptions, _clean,
                                         _concrete, _is_int, _model_vocab, _shifted, _split, _two_prod, _two_sum, check_options,
                                         exact_top_p, log_softmax, sampler_options, shifted_logits, split_top_p,
                                         vocab_size)
from jaxrnn.models.decoding.exact import (MAX_ENUMERATED, Exact, _exact_search, _score_row, enumerate_sequences,
                                          exact_best_sequence, exact_search, exact_search_with)
from jaxrnn.models.decoding.samplers import (_argmax, _decode, _greedy, _process, _process_jit, _sample,
                                             _sampled_token, _top_p_cutoff, forced_scores, greedy, process_logits,
                                             sample, sample_with, top_p_keep)

__all__ = [n for n in dir() if not n.startswith("__") and n not in ("beam", "core", "exact", "samplers")]
