"""The decoding study (Problem 3, claims C9-C11) on sources with exact probabilities.

The true sources are random automata over V = ``vocab`` tokens whose lengths are confined to
``min_len..source_max_len`` tokens (``sources.windowed``): every probability is exact, the true mode
is a full-length sequence, and a too short, empty or looping output is recognisably wrong. Models:

- a GRU language model per (source, noise share), trained with teacher forcing on a fixed corpus of
  the source's samples of which a share of targets is truncated at a random point (noisy targets, as
  Ott et al. 2018 study with copies): the model's mode can be degenerate (Stahlberg & Byrne 2019);
- the true source itself, decoded as its own model (no model error: the counter-condition).

C9: beam search for widths k under both beam rules (the suite's finished pool and the toolkits'
top-k rule), with and without a length penalty, against the exact mode (depth-first branch and bound
for the GRUs, Viterbi for the sources); outputs judged under the true source. C10: top-1 vs greedy and
top-V vs pure sampling, same keys. C11: samples of every setting judged under the true source
(impossible, non-terminating, degenerate loops), precision (the sampler's mass on the true support),
recall (the true mass inside the sampler's support) and the entropy of the sampling distribution.
One compilation per function and shape; option values are traced.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.io.results import Dataset
from jaxrnn.models import decoding as dec
from jaxrnn.models import divergence
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.studies.decoding import names as N
from jaxrnn.studies.decoding.claims import claims

RULES = dec.BEAM_RULES  # ("pool", "top_k")


def make_sources(cfg, key) -> list[S.Source]:
    """Random automata (peaked Dirichlet emissions, forbidden tokens) with lengths in the window."""
    base = S.random_sources(key, cfg.n_sources, cfg.n_states, cfg.vocab, forbidden=cfg.forbidden, eos=cfg.eos,
                            concentration=cfg.concentration)
    return [S.windowed(b, cfg.min_len, cfg.source_max_len) for b in base]


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


# ---------------------------------------------------------------------------
# Training: teacher forcing on a fixed corpus, every model in one vmapped scan
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Decoding grids (one compilation each)
# ---------------------------------------------------------------------------

@functools.partial(jax.jit, static_argnames=("logits_fn", "transition_fn", "state0_fn", "num_beams", "max_len"))
def beam_grid(params, eos_id, alphas, rules, widths, *, logits_fn, transition_fn, state0_fn, num_beams, max_len):
    """Beams for every (config, model): alphas, rules, widths (C,) traced; buffer ``num_beams``."""
    state0 = jax.vmap(state0_fn)(params)

    def one(p, s0, a, r, w):
        return dec.beam_search_with(logits_fn, transition_fn, p, s0, eos_id, a, r, w, num_beams=num_beams,
                                    max_len=max_len)

    return jax.vmap(jax.vmap(one, (0, 0, None, None, None)), (None, None, 0, 0, 0))(params, state0, alphas, rules,
                                                                                    widths)


@functools.partial(jax.jit, static_argnames=("max_len", "vocab", "max_nodes"))
def exact_grid(params, lower, eos_id, *, max_len, vocab, max_nodes):
    """The exact mode (length penalty 0) of every GRU by branch and bound above ``lower`` (M,)."""
    def one(p, lb):
        return dec.exact_search_with(lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), eos_id, 0.0, lb,
                                     max_len=max_len, vocab=vocab, max_nodes=max_nodes)

    return jax.vmap(one)(params, lower)


@functools.partial(jax.jit, static_argnames=("max_len",))
def sample_grid(params, opts, keys, eos_id, *, max_len):
    """Samples (settings, models, n) with common random numbers (the same keys for every setting), and the
    C10 references on the same keys: greedy (models,) and pure categorical sampling (models, n)."""
    def one(o, p, k):
        return dec.sample_with(k, lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), o, max_len=max_len,
                               eos_id=eos_id)

    grid = jax.vmap(jax.vmap(jax.vmap(one, (None, None, 0)), (None, 0, 0)), (0, None, None))(opts, params, keys)

    def plain(p, k):
        # pure sampling from the max-shifted logits, the values every sampler draws from; this program
        # batches the model differently from the sampler grid, so its logits (and a rare Gumbel-max
        # near-tie) can still differ in the last bits: the verdict reads replay_agreement instead
        return dec._decode(lambda kq, lg: jax.random.categorical(kq, dec.shifted_logits(lg)), lm.lm_logits,
                           lm.lm_transition, p, lm.lm_state0(p), k, max_len, eos_id)

    greedy = jax.vmap(lambda p: dec._decode(lambda _, lg: jnp.argmax(lg), lm.lm_logits, lm.lm_transition, p,
                                            lm.lm_state0(p), jax.random.key(0), max_len, eos_id))(params)
    pure = jax.vmap(jax.vmap(plain, (None, 0)))(params, keys)
    return grid, greedy, pure


def greedy_reference(_, logits):
    """Greedy's token: the first maximum."""
    return jnp.argmax(dec.shifted_logits(logits))


def pure_reference(key, logits):
    """Pure sampling's token: a categorical draw from the unmasked logits."""
    return jax.random.categorical(key, dec.shifted_logits(logits))


@functools.partial(jax.jit, static_argnames=("reference",))
def replay_agreement(params, opts, keys, tokens, eos_id, *, reference):
    """(same, tied, steps), each (models, n): whether, at every step of each sample's own trajectory, the
    sampler with options ``opts`` draws the same token as ``reference(key, logits)`` from the same logits
    with the same key; how many of its steps had a tied maximum logit; how many steps it took.

    The per-step keys are split as ``decoding._decode`` splits them. Both draws see one array of logits
    in one program, so the check is the identity itself, free of the last-bit differences two separately
    batched programs can give the model's logits (which can flip a Gumbel-max near-tie)."""
    def one(p, key, toks):
        def step(carry, tok):
            state, done, key = carry
            key, sub = jax.random.split(key)
            logits = lm.lm_logits(p, state)
            same = (dec._sampled_token(sub, logits, opts)[0] == reference(sub, logits)) | done
            tied = ~done & (jnp.sum(logits == jnp.max(logits)) > 1)
            return (lm.lm_transition(p, state, tok), done | (tok == eos_id), key), (same, tied, ~done)

        same, tied, live = lax.scan(step, (lm.lm_state0(p), jnp.bool_(False), key), toks)[1]
        return jnp.all(same), jnp.sum(tied), jnp.sum(live)

    return jax.vmap(jax.vmap(one, (None, 0, 0)), (0, 0, 0))(params, keys, tokens)


@jax.jit
def forced_grid(params, opts, tokens, length):
    """Whether each held-out source sample lies inside each setting's support: (settings, models, n_true).

    The model's logits along a sequence do not depend on the setting: they are computed once per (model,
    sequence), then every setting's mask is applied to them (twin: ``decoding.forced_scores``' log q > -inf).
    """
    def logits_along(p, t):
        def step(h, tok):
            return lm.lm_transition(p, h, tok), lm.lm_logits(p, h)

        return lax.scan(step, lm.lm_state0(p), t)[1]  # (L, V): the logits each token was drawn from

    lg = jax.vmap(jax.vmap(logits_along, (None, 0)), (0, 0))(params, tokens)  # (models, n, L, V)
    on = jnp.arange(tokens.shape[-1])[None, None, :] < length[..., None]  # (models, n, L)

    def inside(o):
        y = jax.vmap(jax.vmap(jax.vmap(dec._process, (0, None)), (0, None)), (0, None))(lg, o)
        hit = jnp.take_along_axis(y, tokens[..., None], -1)[..., 0] > -jnp.inf
        return jnp.all(hit | ~on, axis=-1)

    return jax.vmap(inside)(opts)


# ---------------------------------------------------------------------------
# Host-side measures
# ---------------------------------------------------------------------------

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


def settings(cfg) -> tuple[list, dec.SamplerOptions]:
    """The sampler settings [(family, value)] and their traced options (stacked)."""
    rows = ([("top_k", k, dict(top_k=k)) for k in cfg.top_ks] + [("top_p", p, dict(top_p=p)) for p in cfg.top_ps]
            + [("temperature", t, dict(temperature=t)) for t in cfg.temperatures])
    opts = [dec.sampler_options(cfg.vocab + 1, **o) for _, _, o in rows]
    return [(f, v) for f, v, _ in rows], dec.SamplerOptions(*[np.stack(x) for x in zip(*opts)])


def _tolerance(x):
    return 1e-4 * (1.0 + np.abs(x))


# ---------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------

def study(cfg, *, key):
    V, eos, L = cfg.vocab + 1, cfg.vocab, cfg.max_len
    k_src, k_corpus, k_init, k_sample = jax.random.split(key, 4)
    sources = make_sources(cfg, k_src)
    SRC = S.Source(*[np.stack(x) for x in zip(*sources)])
    emit, nxt = np.asarray(SRC.emit_logp), np.asarray(SRC.next_state)
    n_src, n_noise = len(sources), len(cfg.noise_shares)

    # the GRUs: row = noise index x n_src + source; one sampling call for every corpus and held-out set
    src_of = np.tile(np.arange(n_src), n_noise)
    share = np.repeat(np.asarray(cfg.noise_shares, np.float32), n_src)
    M = len(src_of)
    d, corpus = corpora(SRC, k_corpus, src_of, share, n=cfg.corpus_size + cfg.n_true, max_len=L,
                        n_corpus=cfg.corpus_size)
    true_tok, true_len = np.asarray(d.tokens[:, cfg.corpus_size:]), np.asarray(d.length[:, cfg.corpus_size:])
    true_lp = np.asarray(d.score[:, cfg.corpus_size:], np.float64)
    params, losses = train_models(*corpus, k_init, np.float32(cfg.gru_lr), vocab=cfg.vocab, n=cfg.gru_hidden,
                                  d=cfg.gru_embed, steps=cfg.gru_steps, batch=cfg.gru_batch)
    losses = np.asarray(losses)
    divergence.report("decoding GRU", losses, divergence.uniform_loss(cfg.vocab))  # the one rule

    ds = Dataset()
    ds.add_axis(N.MODEL, np.arange(M))
    ds.add_axis(N.SOURCE, np.arange(n_src))
    ds.add(N.MODEL_SOURCE, (N.MODEL,), src_of)
    ds.add(N.MODEL_NOISE, (N.MODEL,), share)
    ds.add_axis(N.LOG_STEP, np.arange(losses.shape[1]) * 10)
    ds.add(N.TRAIN_LOSS, (N.MODEL, N.LOG_STEP), losses)

    # ---- C9: beams of every (alpha, rule, width), then exact modes --------------------------------
    widths = np.asarray(cfg.beam_widths)
    grid = [(a, r, w) for a in cfg.length_penalties for r in RULES for w in widths]
    A = np.asarray([g[0] for g in grid], np.float32)
    R = np.asarray([g[1] == "top_k" for g in grid])
    W = np.asarray([g[2] for g in grid], np.int32)
    shape = (len(cfg.length_penalties), len(RULES), len(widths))
    ds.add_axis(N.ALPHA, np.asarray(cfg.length_penalties))
    ds.add_axis(N.RULE, np.asarray(RULES))
    ds.add_axis(N.WIDTH, widths)
    ds.add(N.BEAM_VOCAB, (), np.int64(V))
    beams = {
        "gru": beam_grid(params, eos, A, R, W, logits_fn=lm.lm_logits, transition_fn=lm.lm_transition,
                         state0_fn=lm.lm_state0, num_beams=int(widths.max()), max_len=L),
        "source": beam_grid(SRC, eos, A, R, W, logits_fn=S.source_logits, transition_fn=S.source_transition,
                            state0_fn=source_state0, num_beams=int(widths.max()), max_len=L),
    }
    rows = {"gru": src_of, "source": np.arange(n_src)}
    axis = {"gru": N.MODEL, "source": N.SOURCE}
    search = {}
    for fam, b in beams.items():
        score = np.asarray(b.score[:, :, 0], np.float64).reshape(*shape, -1)
        length = np.asarray(b.length[:, :, 0]).reshape(*shape, -1)
        finished = np.isfinite(score)
        length = np.where(finished, length, L)
        tl = true_log_prob(emit[rows[fam]][None], nxt[rows[fam]][None], np.asarray(b.tokens[:, :, 0]),
                           np.asarray(b.length[:, :, 0])).reshape(*shape, -1)
        tl = np.where(finished, tl, -np.inf)
        dims = (N.ALPHA, N.RULE, N.WIDTH, axis[fam])
        ds.add(N.key(fam, N.BEAM_SCORE), dims, score)
        ds.add(N.key(fam, N.BEAM_LENGTH), dims, length)
        ds.add(N.key(fam, N.BEAM_VALID), dims, np.isfinite(tl))
        ds.add(N.key(fam, N.BEAM_TRUE_LOGP), dims, tl)
        search[fam] = dict(score=score, length=length, valid=np.isfinite(tl))

    # exact modes (alpha = 0): GRUs by branch and bound above the best beam score found; sources by Viterbi
    best_beam = search["gru"]["score"][0].max(axis=(0, 1))
    lower = np.where(np.isfinite(best_beam), best_beam - _tolerance(best_beam), -np.inf).astype(np.float32)
    ex = exact_grid(params, lower, eos, max_len=L, vocab=V, max_nodes=cfg.max_nodes)
    ex_found, ex_complete = np.asarray(ex.found), np.asarray(ex.complete)
    # nothing strictly above the bound: the best beam is the mode (within the tolerance); over budget: unknown
    at_beam = np.argmax(search["gru"]["score"][0].reshape(-1, M), axis=0)
    beam_len = search["gru"]["length"][0].reshape(-1, M)[at_beam, np.arange(M)]
    beam_valid = search["gru"]["valid"][0].reshape(-1, M)[at_beam, np.arange(M)]
    ex_tl = true_log_prob(emit[src_of], nxt[src_of], np.asarray(ex.tokens), np.asarray(ex.length))
    ex_score = np.where(ex_complete, np.where(ex_found, np.asarray(ex.score, np.float64), best_beam), np.nan)
    ex_len = np.where(ex_found, np.asarray(ex.length), beam_len)
    ex_valid = np.where(ex_found, np.isfinite(ex_tl), beam_valid)
    vit = [S.viterbi(s, L) for s in sources]
    exact = {
        "gru": dict(score=ex_score, length=ex_len, valid=ex_valid, nodes=np.asarray(ex.nodes), complete=ex_complete),
        "source": dict(score=np.asarray([v[1] for v in vit]), length=np.asarray([len(v[0]) for v in vit]),
                       valid=np.asarray([np.isfinite(v[1]) for v in vit]), nodes=np.zeros(n_src, int),
                       complete=np.asarray([np.isfinite(v[1]) for v in vit])),
    }
    for fam in beams:
        e = exact[fam]
        err = search[fam]["score"][0] < e["score"] - _tolerance(e["score"])  # (rule, width, model)
        search[fam]["search_error"] = err
        ds.add(N.key(fam, N.SEARCH_ERROR), (N.RULE, N.WIDTH, axis[fam]), err)
        # 1 - p(beam)/p(mode): exp of a non-positive gap (-inf beam score: 1); NaN only where the mode is unknown
        with np.errstate(invalid="ignore"):
            short = -np.expm1(np.minimum(search[fam]["score"][0] - e["score"], 0.0))
        short = np.where(err | np.isnan(short), short, 0.0)  # within the tolerance: the mode was found
        search[fam]["shortfall"] = short
        ds.add(N.key(fam, N.SHORTFALL), (N.RULE, N.WIDTH, axis[fam]), short)
        for name, arr in ((N.EXACT_SCORE, e["score"]), (N.EXACT_LENGTH, e["length"]), (N.EXACT_VALID, e["valid"]),
                          (N.EXACT_NODES, e["nodes"])):
            ds.add(N.key(fam, name), (axis[fam],), arr)

    # ---- C10, C11: every sampler setting, common random numbers -------------------------------------
    rows_s, opts = settings(cfg)
    keys = jax.random.split(k_sample, M * cfg.n_samples).reshape(M, cfg.n_samples)  # the same for every setting
    g, greedy, pure = sample_grid(params, opts, keys, eos, max_len=L)
    # recall: only settings that mask tokens can miss a sequence (temperature and top-k = V keep every token)
    masks = np.asarray([(f == "top_k" and v < V) or f == "top_p" for f, v in rows_s])
    sub = dec.SamplerOptions(*[np.asarray(x)[masks] for x in opts])
    covered = np.ones((len(rows_s), M, cfg.n_true), bool)
    covered[masks] = np.asarray(forced_grid(params, sub, true_tok[src_of], true_len[src_of]))
    tok, length, fin = np.asarray(g.tokens), np.asarray(g.length), np.asarray(g.finished)
    tl = true_log_prob(emit[src_of][None, :, None], nxt[src_of][None, :, None], tok, length)
    impossible = fin & ~np.isfinite(tl)
    nonterm = ~fin
    degen = loops(tok, length, fin, cfg.loop_window, cfg.loop_period)
    rates = {"impossible": impossible, "nonterminating": nonterm, "degenerate": degen,
             "failure": impossible | nonterm | degen, "precision": fin & np.isfinite(tl)}
    rates = {k: v.mean(-1) for k, v in rates.items()}
    rates["recall"] = covered.mean(-1)
    entropy = (-np.asarray(g.logq, np.float64)).mean(-1)
    ds.add_axis(N.SETTING, np.arange(len(rows_s)))
    ds.add(N.SETTING_FAMILY, (N.SETTING,), np.asarray([f for f, _ in rows_s]))
    ds.add(N.SETTING_VALUE, (N.SETTING,), np.asarray([v for _, v in rows_s], np.float64))
    for name in N.SAMPLE_RATES:
        ds.add(name, (N.SETTING, N.MODEL), rates[name])
    ds.add(N.ENTROPY, (N.SETTING, N.MODEL), entropy)
    ds.add(N.MEAN_LENGTH, (N.SETTING, N.MODEL), length.mean(-1))
    src_entropy = -true_lp.mean(-1)
    src_len = true_len.mean(-1)
    src_loops = loops(true_tok, true_len, np.ones_like(true_len, bool), cfg.loop_window, cfg.loop_period).mean(-1)
    ds.add(N.SOURCE_ENTROPY, (N.SOURCE,), src_entropy)
    ds.add(N.SOURCE_LENGTH, (N.SOURCE,), src_len)
    ds.add(N.SOURCE_LOOPS, (N.SOURCE,), src_loops)

    # C10: the identity step by step along each sample (same logits, same key), and end to end between
    # the separately batched programs (whose logits may differ in the last bit)
    top1 = [i for i, (f, v) in enumerate(rows_s) if f == "top_k" and v == 1][0]
    topv = [i for i, (f, v) in enumerate(rows_s) if f == "top_k" and v == V][0]
    row = lambda i: jax.tree.map(lambda a: a[i], opts)  # noqa: E731
    agree_greedy, tied_steps, steps = (np.asarray(a) for a in replay_agreement(
        params, row(top1), keys, tok[top1], eos, reference=greedy_reference))
    agree_pure = np.asarray(replay_agreement(params, row(topv), keys, tok[topv], eos, reference=pure_reference)[0])
    end_to_end = {"top1_equals_greedy": int(np.all(tok[top1] == np.asarray(greedy.tokens)[:, None], -1).sum()),
                  "topV_equals_pure": int(np.all(tok[topv] == np.asarray(pure.tokens), -1).sum())}
    tied = np.asarray([1.0, 1.0, 0.0, -1.0], np.float32)  # a 2-way tie: P(top-1 picks greedy's id) exactly
    y = np.asarray(dec.process_logits(tied, top_k=1), np.float64)
    p_tie = float(np.exp(y)[int(np.argmax(tied))] / np.exp(y).sum())

    summary = _summary(cfg, share, src_of, losses, search, exact, rates, entropy, length, rows_s, src_entropy,
                       src_len, src_loops, agree_greedy, agree_pure, p_tie)
    summary["equivalence"]["end_to_end_separate_programs"] = end_to_end
    summary["equivalence"]["top1_steps"] = int(steps.sum())
    summary["equivalence"]["top1_steps_with_tied_maximum"] = int(tied_steps.sum())
    summary["claims"] = claims(summary, cfg)
    return ds, summary


def _summary(cfg, share, src_of, losses, search, exact, rates, entropy, length, rows_s, src_entropy, src_len,
             src_loops, agree_greedy, agree_pure, p_tie) -> dict:
    """Per-condition lists of per-model values (the replicates the claims' intervals are computed over)."""
    fl = lambda a: [float(x) for x in np.asarray(a, np.float64).ravel()]  # noqa: E731
    conditions = {f"noise {s:g}": share == s for s in cfg.noise_shares}
    widths = list(cfg.beam_widths)
    per_family = {}
    for fam, cond in [("gru", conditions), ("source", {"true source": np.ones(cfg.n_sources, bool)})]:
        out = {}
        for cname, m in cond.items():
            entry = {"exact_valid": fl(exact[fam]["valid"][m]), "exact_length": fl(exact[fam]["length"][m]),
                     "exact_complete": fl(exact[fam]["complete"][m]), "exact_nodes": fl(exact[fam]["nodes"][m]),
                     "sample_length": fl(src_len[src_of[m]] if fam == "gru" else src_len)}
            for a, alpha in enumerate(cfg.length_penalties):
                for r, rule in enumerate(RULES):
                    tag = f"alpha={alpha:g}/{rule}"
                    entry[tag] = {str(k): {"valid": fl(search[fam]["valid"][a, r, j][m]),
                                           "length": fl(search[fam]["length"][a, r, j][m]),
                                           "finished": fl(np.isfinite(search[fam]["score"][a, r, j][m])),
                                           **({"search_error": fl(search[fam]["search_error"][r, j][m]),
                                               "shortfall": fl(search[fam]["shortfall"][r, j][m])}
                                              if a == 0 else {})}
                                  for j, k in enumerate(widths)}
            out[cname] = entry
        per_family[fam] = out
    sampling = {}
    for cname, m in conditions.items():
        sampling[cname] = {
            f"{f}={v:g}": {**{name: fl(rates[name][i][m]) for name in N.SAMPLE_RATES},
                           "entropy_nats": fl(entropy[i][m]), "mean_length": fl(length[i][m].mean(-1))}
            for i, (f, v) in enumerate(rows_s)}
    return {
        "conditions": list(conditions),
        "search": per_family,
        "sampling": sampling,
        "source_reference": {"entropy_nats": fl(src_entropy), "mean_length": fl(src_len), "loop_rate": fl(src_loops)},
        "training": {cname: {"final_nll": fl(losses[m, -1])} for cname, m in conditions.items()},
        "equivalence": {"top1_equals_greedy": int(agree_greedy.sum()), "topV_equals_pure": int(agree_pure.sum()),
                        "sequences": int(agree_greedy.size), "tie_probability_top1_is_greedy": p_tie},
    }


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims) for a validated config."""
    return study(config, key=jax.random.key(config.seed))
