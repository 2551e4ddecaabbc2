"""Host-side measures of the decoding study: exact probabilities under the true source, loops, token
diversity, the sampler settings."""

from __future__ import annotations

import numpy as np

from jaxrnn.models import decoding as dec


def true_log_prob(emit, nxt, tokens, length):
    """Exact log p_true of complete sequences, vectorised: emit (..., S, V+1), nxt (..., S, V) per row,
    tokens (..., L), length (...) (ids incl. EOS). -inf if impossible. Twin of ``sources.sequence_log_prob``."""
    emit, nxt = np.asarray(emit, np.float64), np.asarray(nxt)
    tokens, length = np.asarray(tokens), np.asarray(length)
    vocab = nxt.shape[-1]
    state = np.zeros(tokens.shape[:-1], int)
    total = np.zeros(tokens.shape[:-1])
    for t in range(tokens.shape[-1]):
        on = t < length
        tok = tokens[..., t]
        lp = np.take_along_axis(np.take_along_axis(emit, state[..., None, None], -2)[..., 0, :], tok[..., None],
                                -1)[..., 0]
        total = total + np.where(on, lp, 0.0)
        step = np.take_along_axis(np.take_along_axis(nxt, state[..., None, None], -2)[..., 0, :],
                                  np.minimum(tok, vocab - 1)[..., None], -1)[..., 0]
        state = np.where(on & (tok < vocab), step, state)
    return total


def loops(tokens, length, finished, window: int, period: int) -> np.ndarray:
    """Degenerate loop: the last ``window`` tokens before EOS (or before the cap) repeat a block of at most
    ``period`` tokens: y[t] = y[t - m] across the window for some m <= period."""
    tokens = np.asarray(tokens)
    n = np.where(finished, length - 1, length)  # tokens before EOS
    idx = n[..., None] - window + np.arange(window)
    tail = np.take_along_axis(tokens, np.clip(idx, 0, tokens.shape[-1] - 1), -1)
    out = np.zeros(tokens.shape[:-1], bool)
    for m in range(1, period + 1):
        out |= np.all(tail[..., m:] == tail[..., :-m], -1)
    return out & (n >= window)


def distinct_tokens(tokens, length, finished) -> np.ndarray:
    """Token diversity of each output: how many distinct ids it uses before EOS (EOS excluded; an
    unfinished output counts its ids up to the cap). tokens (..., L) -> (...)."""
    tokens = np.asarray(tokens)
    n = np.where(finished, np.asarray(length) - 1, length)
    marked = np.sort(np.where(np.arange(tokens.shape[-1]) < n[..., None], tokens, -1), -1)
    new = (marked[..., 1:] != marked[..., :-1]) & (marked[..., 1:] >= 0)
    return new.sum(-1) + (marked[..., 0] >= 0)


def settings(cfg) -> tuple[list, dec.SamplerOptions]:
    """The sampler settings [(family, value)] and their traced options (stacked)."""
    rows = ([("top_k", k, dict(top_k=k)) for k in cfg.top_ks] + [("top_p", p, dict(top_p=p)) for p in cfg.top_ps]
            + [("temperature", t, dict(temperature=t)) for t in cfg.temperatures])
    opts = [dec.sampler_options(cfg.vocab + 1, **o) for _, _, o in rows]
    return [(f, v) for f, v, _ in rows], dec.SamplerOptions(*[np.stack(x) for x in zip(*opts)])


def _tolerance(x):
    return 1e-4 * (1.0 + np.abs(x))
