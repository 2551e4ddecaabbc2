"""The decoding study's sources, corpora and GRU training (teacher forcing on a fixed corpus with a share of
truncated targets, every model in one vmapped scan)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.models import decoding as dec
from jaxrnn.models import lm
from jaxrnn.models import sources as S


def make_sources(cfg, key) -> list[S.Source]:
    """Random automata (peaked Dirichlet emissions, forbidden tokens) whose EOS is possible in every state,
    the start state included: EOS competes from the first step, and no length window is imposed."""
    return S.random_sources(key, cfg.n_sources, cfg.n_states, cfg.vocab, forbidden=cfg.forbidden, eos=cfg.eos,
                            concentration=cfg.concentration, start_eos=True)


@functools.partial(jax.jit, static_argnames=("n", "max_len", "n_corpus"))
def corpora(srcs: S.Source, key, src_of, shares, *, n: int, max_len: int, n_corpus: int):
    """Pure samples (n_sources, n) of every source, and every model's training corpus: the first n_corpus
    samples of its source with a share of targets truncated (models (M,) by ``src_of`` and ``shares``)."""
    vocab = srcs.emit_logp.shape[-1]
    k_sample, k_noise = jax.random.split(key)

    def one(src, k):
        return jax.vmap(lambda kk: dec._decode(lambda kq, lg: jax.random.categorical(kq, lg), S.source_logits,
                                               S.source_transition, src, S.source_state0(), kk, max_len,
                                               vocab - 1))(jax.random.split(k, n))

    d = jax.vmap(one)(srcs, jax.random.split(k_sample, srcs.emit_logp.shape[0]))
    keys = jax.random.split(k_noise, src_of.shape[0] * n_corpus).reshape(src_of.shape[0], n_corpus)
    noisy = jax.vmap(jax.vmap(truncate, (0, 0, 0, None, None)), (0, 0, 0, 0, None))(
        d.tokens[src_of, :n_corpus], d.length[src_of, :n_corpus], keys, shares, vocab - 1)
    return d, noisy


def sample_sources(srcs: S.Source, key, *, n: int, max_len: int) -> dec.Decoded:
    """Pure samples (n_sources, n) of every source (stacked)."""
    return corpora(srcs, key, jnp.zeros(1, jnp.int32), jnp.zeros(1), n=n, max_len=max_len, n_corpus=1)[0]


def source_state0(src: S.Source):
    """A source's start state (its parameters unused): the ``state0_fn`` of the source model family."""
    del src
    return S.source_state0()


def truncate(tokens, length, key, share, eos_id):
    """Noisy targets: with probability ``share`` a sequence (L,) is cut after a uniform number 0..len-2 of
    its tokens and ended with EOS. Returns (tokens, length)."""
    k1, k2 = jax.random.split(key)
    noisy = jax.random.uniform(k1) < share
    cut = jnp.floor(jax.random.uniform(k2) * (length - 1)).astype(jnp.int32)
    new_len = jnp.where(noisy, cut + 1, length)
    pos = jnp.arange(tokens.shape[-1])
    return jnp.where(pos < new_len - 1, tokens, eos_id).astype(jnp.int32), new_len

def gru_recurrence(U, h, wx):
    """One GRU step given the input projections ``wx = W x + b`` (3, n): ``lm.lm_transition``'s cell
    (``cells.gru_cell``) with the input part computed for all steps at once. h (n,) -> (n,)."""
    z = jax.nn.sigmoid(wx[0] + U[0] @ h)
    r = jax.nn.sigmoid(wx[1] + U[1] @ h)
    c = jnp.tanh(wx[2] + U[2] @ (r * h))
    return (1.0 - z) * h + z * c


def sequence_nll(p: lm.LMParams, tokens, length):
    """Summed -log p(y_t | y_<t) over one sequence (L,) (BOS first; ids after EOS ignored), and the count."""
    bos = p.emb.shape[0] - 1
    inputs = jnp.concatenate([jnp.full((1,), bos), tokens[:-1]])
    wx = jnp.einsum("ld,gnd->lgn", p.emb[inputs], p.gru.W) + p.gru.b[None]  # (L, 3, n)
    _, hs = lax.scan(lambda h, w: (gru_recurrence(p.gru.U, h, w),) * 2, jnp.zeros(p.out.shape[1]), wx)
    lp = jax.nn.log_softmax(hs @ p.out.T + p.out_b[None])
    mask = jnp.arange(tokens.shape[0]) < length
    return -jnp.sum(jnp.take_along_axis(lp, tokens[:, None], 1)[:, 0] * mask), jnp.sum(mask)


def _train_one(tokens, length, key, lr, *, vocab, n, d, steps, batch, log_every):
    k_init, k_data = jax.random.split(key)
    params = lm.init_lm(k_init, vocab, n, d)
    opt = optax.adam(lr)

    def loss_fn(p, t, ln):
        nll, count = jax.vmap(sequence_nll, (None, 0, 0))(p, t, ln)
        return nll.sum() / count.sum()

    def update(carry, _):
        p, state, key = carry
        key, kb = jax.random.split(key)
        idx = jax.random.randint(kb, (batch,), 0, tokens.shape[0])
        loss, g = jax.value_and_grad(loss_fn)(p, tokens[idx], length[idx])
        u, state = opt.update(g, state, p)
        return (optax.apply_updates(p, u), state, key), loss

    (params, _, _), losses = lax.scan(update, (params, opt.init(params), k_data), None, length=steps)
    return params, losses.reshape(-1, log_every).mean(-1)


@functools.partial(jax.jit, static_argnames=("vocab", "n", "d", "steps", "batch", "log_every"))
def train_models(tokens, length, key, lr, *, vocab, n, d, steps, batch, log_every=10):
    """GRU LMs (one per row of tokens (M, N, L), length (M, N); its own key split from ``key``), Adam,
    teacher forcing."""
    fn = functools.partial(_train_one, vocab=vocab, n=n, d=d, steps=steps, batch=batch, log_every=log_every)
    return jax.vmap(fn, (0, 0, 0, None))(tokens, length, jax.random.split(key, tokens.shape[0]), lr)
