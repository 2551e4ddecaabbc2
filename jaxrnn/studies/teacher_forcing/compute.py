"""The teacher_forcing study (Problem 2, claims C6-C8): GRU models trained with teacher forcing, free
running and scheduled sampling (Bengio et al. 2015's linear, exponential and inverse-sigmoid decays,
spread over the whole run down to a floor), on three conditional tasks with deterministic targets
(digit reversal, digit sorting, running sums mod 10) and, as the counter-condition, on a random
source whose probabilities are exact.

One jit per task family: every (task, regime, seed) of reversal and sorting trains in one vmapped
call, every (regime, seed) of running sums (a narrower GRU) in a second, of the source in a third.
Rows that share a seed share the initialisation and every training batch, and are scored on the
same held-out examples (paired across regimes);
different seeds use independent test sets, so intervals over seeds include the test-set noise.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.core.sweep import stable_partial
from jaxrnn.io.results import Dataset
from jaxrnn.models import conditional as Q
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.studies.teacher_forcing import names as N
from jaxrnn.studies.teacher_forcing.claims import claims
from jaxrnn.studies.teacher_forcing.config import REGIMES, TASKS, TUNE_SEED0

COND_TASKS = TASKS[:3]
BLOCK_TASKS = ("reverse", "sort")  # family 1: block layout, width cfg.width, cfg.steps updates
SUM_TASKS = ("running_sum",)  # family 2: interleaved running sums, width cfg.sum_width, cfg.sum_steps updates
CURVE_TEST = 2_000_000  # test-set seeds: CURVE_TEST + seed (learning curves), FINAL_TEST + seed (final scores)
FINAL_TEST = 3_000_000
SOURCE_EVAL = 4_000_000


def family(cfg, tasks) -> dict:
    """Width, updates and curve spacing of a task family."""
    if tuple(tasks) == SUM_TASKS:
        return {"width": cfg.sum_width, "steps": cfg.sum_steps, "log_every": cfg.sum_log_every,
                "batch": cfg.sum_batch}
    if tuple(tasks) == ("source",):
        return {"width": cfg.source_width, "steps": cfg.source_steps, "log_every": cfg.log_every, "batch": cfg.batch}
    return {"width": cfg.width, "steps": cfg.steps, "log_every": cfg.log_every, "batch": cfg.batch}


def regime_schedules(cfg, steps: int) -> list[tuple[str, float, float, float]]:
    """(kind, k, c, eps_min) of every regime for a run of ``steps`` updates, in the order of ``config.REGIMES``."""
    return [("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0)] + lm.bengio_schedules(
        steps, cfg.floor, cfg.decay_end)


def _test_seed(cfg, base: int, seed):
    return np.asarray((base + cfg.seed * 10_007 + np.asarray(seed)) % (2 ** 31 - 1), np.int32)


def make_rows(cfg, seeds, lrs: dict, tasks=BLOCK_TASKS, lr_grid=None) -> dict:
    """Rows over (task, regime, [lr,] seed), in that order, for one task family. ``lrs[task][regime]`` is
    the learning rate, unless ``lr_grid`` is given (selection runs: every lr of the grid)."""
    sched = regime_schedules(cfg, family(cfg, tasks)["steps"])
    grid = [None] if lr_grid is None else list(lr_grid)
    rows = [(t, r, lr, s) for t in tasks for r in range(len(REGIMES)) for lr in grid for s in seeds]
    kind = [lm.SCHEDULES.index(sched[r][0]) for _, r, _, _ in rows]
    out = {"kind": np.asarray(kind, np.int32),
           "k": np.asarray([sched[r][1] for _, r, _, _ in rows], np.float32),
           "c": np.asarray([sched[r][2] for _, r, _, _ in rows], np.float32),
           "eps_min": np.asarray([sched[r][3] for _, r, _, _ in rows], np.float32),
           "seed": np.asarray([s for *_, s in rows], np.int32),
           "lr": np.asarray([lrs[t][r] if lr is None else lr for t, r, lr, _ in rows], np.float32),
           "task": np.asarray([TASKS.index(t) for t, *_ in rows], np.int32),
           "test_seed": _test_seed(cfg, CURVE_TEST, [s for *_, s in rows])}
    return out


def train_conditional(cfg, rows, tasks=BLOCK_TASKS) -> lm.TrainOut:
    """Every row of one task family in one jitted, vmapped call; curves: greedy accuracy per output
    position with own and with true prefixes on the seed's held-out examples every ``log_every`` updates."""
    fam = family(cfg, tasks)
    data_fn = stable_partial(Q.row_batch, batch=fam["batch"], digits=cfg.digits)
    eval_fn = stable_partial(Q.row_accuracy, n_test=cfg.n_curve, digits=cfg.digits)
    return lm.train_rows(rows, data_fn=data_fn, eval_fn=eval_fn, vocab=Q.VOCAB, n=fam["width"],
                         steps=fam["steps"], log_every=fam["log_every"])


@functools.partial(jax.jit, static_argnames=("n_test", "digits"))
def _final_accuracy(params, task, test_seed, *, n_test, digits):
    def one(p, t, s):
        return Q.accuracy(p, Q.heldout_set(t, s, n_test=n_test, digits=digits), digits, t)

    return jax.vmap(one)(params, task, test_seed)


def final_accuracy(cfg, params, rows) -> dict:
    """Greedy accuracy per output position with own and with true prefixes on n_test fresh examples."""
    seeds = _test_seed(cfg, FINAL_TEST, rows["seed"])
    return jax.tree.map(np.asarray, _final_accuracy(params, rows["task"], seeds, n_test=cfg.n_test,
                                                    digits=cfg.digits))


# ---------------------------------------------------------------------------
# The stochastic source (counter-condition)
# ---------------------------------------------------------------------------

def _kl(p_true, logp_model):
    """KL(p_true || p_model) with 0 log 0 = 0; p_true (V,), logp_model (V,)."""
    safe = jnp.where(p_true > 0, p_true, 1.0)
    return jnp.sum(jnp.where(p_true > 0, p_true * (jnp.log(safe) - logp_model), 0.0))


def prefix_scores(p: lm.LMParams, src: S.Source, tokens, length):
    """Along one sequence (L,), per position t:

    kl[t] = KL(p_true(.|y_<t) || p_model(.|y_<t)), counted where ``scored`` (t < length and the
    prefix y_<t is possible under the source); ``impossible`` (t < length, prefix already impossible:
    the true conditional does not exist there, the position is counted, not dropped);
    logp[t] = log p_model(y_t | y_<t) (t < length, else 0)."""

    def step(carry, yt):
        h, state, possible = carry
        y, t = yt
        logp_model = jax.nn.log_softmax(lm.lm_logits(p, h))
        true_logp = S.source_logits(src, state)
        kl = _kl(jnp.exp(true_logp), logp_model)
        live = t < length
        out = (jnp.where(live & possible, kl, 0.0), live & possible, live & ~possible,
               jnp.where(live, logp_model[y], 0.0))
        possible = possible & jnp.isfinite(true_logp[y])
        return (lm.lm_transition(p, h, y), S.source_transition(src, state, y), possible), out

    init = (lm.lm_state0(p), S.source_state0(), jnp.bool_(True))
    _, (kl, scored, impossible, logp) = lax.scan(step, init, (tokens, jnp.arange(tokens.shape[0])))
    return kl, scored, impossible, logp


def _sample(logits_fn, transition_fn, params, state0, key, n, max_len, eos):
    return lm.sample_many(logits_fn, transition_fn, params, state0, key, n=n, max_len=max_len, eos_id=eos)


def source_eval(p: lm.LMParams, src: S.Source, key, *, n: int, max_len: int, vocab: int) -> dict:
    """Exposure and fit of one model on n fresh true samples and n of its own samples (max_len ids each;
    unfinished samples are kept, truncated):

    - per position: summed KL on true prefixes and its count; summed KL on own prefixes that are still
      possible, their count, and the count of own prefixes already impossible;
    - seq_kl: mean over true samples of sum_t KL_t, which by the chain rule is the KL divergence of the
      true source from the model on sequences truncated after max_len ids (a lower bound of the full
      sequence KL), with its Monte Carlo standard error over the n independent samples;
    - nll: teacher-forced NLL per id on the true samples (fresh data); own_impossible: share of own
      samples that use a forbidden token; unfinished: share of true samples without EOS."""
    k_true, k_own = jax.random.split(key)
    true = _sample(S.source_logits, S.source_transition, src, S.source_state0(), k_true, n, max_len, vocab)
    own = _sample(lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), k_own, n, max_len, vocab)
    kl_t, sc_t, _, logp_t = jax.vmap(lambda t, l: prefix_scores(p, src, t, l))(true.tokens, true.length)
    kl_o, sc_o, imp_o, _ = jax.vmap(lambda t, l: prefix_scores(p, src, t, l))(own.tokens, own.length)
    per_sample = kl_t.sum(1)
    return {"kl_true": kl_t.sum(0), "n_true": sc_t.sum(0), "kl_own": kl_o.sum(0), "n_own": sc_o.sum(0),
            "n_impossible": imp_o.sum(0), "seq_kl": per_sample.mean(),
            "seq_kl_se": per_sample.std(ddof=1) / jnp.sqrt(n),
            "nll": -logp_t.sum() / true.length.sum(), "own_impossible": imp_o.any(1).mean(),
            "unfinished": 1.0 - true.finished.mean()}


def heldout_nll(params, row, *, n: int, max_len: int, vocab: int):
    """Teacher-forced NLL per id on the row's fixed held-out source samples (the source's curve)."""
    src = row["source"]
    true = _sample(S.source_logits, S.source_transition, src, S.source_state0(), jax.random.key(row["test_seed"]),
                   n, max_len, vocab)
    _, _, _, logp = jax.vmap(lambda t, l: prefix_scores(params, src, t, l))(true.tokens, true.length)
    return -logp.sum() / true.length.sum()


def source_rows(cfg, src, seeds, lrs, lr_grid=None) -> dict:
    rows = make_rows(cfg, seeds, {"source": lrs}, tasks=("source",), lr_grid=lr_grid)
    rows["source"] = jax.tree.map(lambda a: jnp.broadcast_to(a, (len(rows["seed"]),) + a.shape), src)
    return rows


def train_source(cfg, rows) -> lm.TrainOut:
    data_fn = stable_partial(lm.source_batch, batch=cfg.batch, max_len=cfg.sample_len, vocab=cfg.vocab)
    eval_fn = stable_partial(heldout_nll, n=cfg.n_curve, max_len=cfg.sample_len, vocab=cfg.vocab)
    return lm.train_rows(rows, data_fn=data_fn, eval_fn=eval_fn, vocab=cfg.vocab, n=cfg.source_width,
                         steps=cfg.source_steps, log_every=cfg.log_every)


@functools.partial(jax.jit, static_argnames=("n", "max_len", "vocab"))
def _source_eval_many(params, src, eval_seed, *, n, max_len, vocab):
    return jax.vmap(lambda p, s: source_eval(p, src, jax.random.key(s), n=n, max_len=max_len, vocab=vocab))(
        params, eval_seed)


def evaluate_source(cfg, src, params, rows) -> dict:
    seeds = _test_seed(cfg, SOURCE_EVAL, rows["seed"])
    return jax.tree.map(np.asarray, _source_eval_many(params, src, seeds, n=cfg.n_eval, max_len=cfg.sample_len,
                                                      vocab=cfg.vocab))


def make_source(cfg) -> S.Source:
    return S.random_source(jax.random.key(cfg.seed), cfg.n_states, cfg.vocab, forbidden=cfg.forbidden, eos=cfg.eos)


# ---------------------------------------------------------------------------
# Learning-rate selection on tuning seeds (preset tune)
# ---------------------------------------------------------------------------

def final_window(curve, log_axis: int = -1):
    """Mean of the last fifth (at least one point) of a learning curve along ``log_axis``."""
    n = curve.shape[log_axis]
    return np.take(curve, np.arange(n - max(1, n // 5), n), axis=log_axis).mean(axis=log_axis)


def select_lrs(cfg, src) -> tuple[dict, np.ndarray]:
    """Per (task, regime): the grid learning rate with the best mean score over the tuning seeds
    (conditional tasks: own-prefix digit accuracy over the last fifth of the curve; source: minus
    the truncated sequence KL). Returns ({task: (lr per regime)}, scores (task, regime, lr, tune seed))."""
    seeds = list(range(TUNE_SEED0, TUNE_SEED0 + cfg.tune_seeds))
    grid = cfg.tune_grid
    shape = (len(REGIMES), len(grid), len(seeds))
    cond = []
    for tasks in (BLOCK_TASKS, SUM_TASKS):
        out = train_conditional(cfg, make_rows(cfg, seeds, {}, tasks=tasks, lr_grid=grid), tasks)
        acc = np.asarray(out.curve["acc_own"])[..., :cfg.digits].mean(-1)  # (rows, log_step)
        cond.append(final_window(acc).reshape((len(tasks),) + shape))
    srows = source_rows(cfg, src, seeds, None, lr_grid=grid)
    sout = train_source(cfg, srows)
    ev = evaluate_source(cfg, src, sout.params, srows)
    scores = np.concatenate(cond + [-ev["seq_kl"].reshape((1,) + shape)])
    best = np.nanmean(scores, axis=-1).argmax(axis=-1)  # (task, regime)
    return {t: tuple(float(grid[j]) for j in best[i]) for i, t in enumerate(TASKS)}, scores


# ---------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------

def _eps_curve(cfg, tasks, n_points: int):
    """(regime, log_step): eps used by the last update before each curve point of a task family."""
    fam = family(cfg, tasks)
    done = (np.arange(n_points) + 1) * fam["log_every"]
    return np.stack([np.asarray(lm.schedule_eps(lm.SCHEDULES.index(kind), np.float32(k), np.float32(c),
                                                np.float32(e), done - 1))
                     for kind, k, c, e in regime_schedules(cfg, fam["steps"])])


def compute(cfg):
    src = make_source(cfg)
    lrs = cfg.lrs()
    ds = Dataset()
    if cfg.select_lr:
        lrs, scores = select_lrs(cfg, src)
        ds.add_axis(N.TUNE_LR, np.asarray(cfg.tune_grid, np.float32))
        ds.add_axis(N.TUNE_SEED, np.arange(TUNE_SEED0, TUNE_SEED0 + cfg.tune_seeds))
    seeds = list(range(cfg.seeds))
    R, K, P = len(REGIMES), cfg.seeds, cfg.steps // cfg.log_every
    ds.add_axis(N.TASK, np.asarray(COND_TASKS))
    ds.add_axis(N.REGIME, np.asarray(REGIMES))
    ds.add_axis(N.SEED, np.asarray(seeds))
    ds.add_axis(N.LOG_STEP, np.arange(1, P + 1))
    ds.add_axis(N.SRC_LOG_STEP, (np.arange(cfg.source_steps // cfg.log_every) + 1) * cfg.log_every)
    ds.add_axis(N.OUT_POS, np.arange(1, cfg.digits + 2))
    ds.add_axis(N.POSITION, np.arange(cfg.sample_len))
    ds.add_axis(N.LR_TASK, np.asarray(TASKS))
    if cfg.select_lr:
        ds.add(N.TUNE_SCORE, (N.LR_TASK, N.REGIME, N.TUNE_LR, N.TUNE_SEED), scores)
    ds.add(N.LR, (N.LR_TASK, N.REGIME), np.asarray([lrs[t] for t in TASKS], np.float32))
    fams = [(t,) if t in SUM_TASKS else BLOCK_TASKS for t in COND_TASKS]
    ds.add(N.UPDATES, (N.TASK, N.LOG_STEP), np.stack([(np.arange(P) + 1) * family(cfg, f)["log_every"] for f in fams]))
    ds.add(N.EPS, (N.TASK, N.REGIME, N.LOG_STEP), np.stack([_eps_curve(cfg, f, P) for f in fams]))
    ds.add(N.SRC_EPS, (N.REGIME, N.SRC_LOG_STEP), _eps_curve(cfg, ("source",), ds[N.SRC_LOG_STEP].size))

    # conditional tasks (the claims): two families, two jits, joined along the task axis
    outs, params, fins = [], [], []
    for tasks in (BLOCK_TASKS, SUM_TASKS):
        rows = make_rows(cfg, seeds, lrs, tasks=tasks)
        out = train_conditional(cfg, rows, tasks)
        outs.append(out)
        params.append(out.params)
        fins.append(final_accuracy(cfg, out.params, rows))
    cat = lambda arrs: np.concatenate([np.asarray(a) for a in arrs])  # noqa: E731
    shape = (len(COND_TASKS), R, K)
    ds.add(N.TRAIN_LOSS, (N.TASK, N.REGIME, N.SEED, N.LOG_STEP), cat([o.loss for o in outs]).reshape(shape + (P,)))
    for name, key in ((N.CURVE_ACC_OWN, "acc_own"), (N.CURVE_ACC_ORACLE, "acc_oracle")):
        ds.add(name, (N.TASK, N.REGIME, N.SEED, N.LOG_STEP, N.OUT_POS),
               cat([o.curve[key] for o in outs]).reshape(shape + (P, cfg.digits + 1)))
    for name, key in ((N.ACC_OWN, "acc_own"), (N.ACC_ORACLE, "acc_oracle")):
        ds.add(name, (N.TASK, N.REGIME, N.SEED, N.OUT_POS), cat([f[key] for f in fins]).reshape(shape + (-1,)))
    ds.add(N.SEQ_OWN, (N.TASK, N.REGIME, N.SEED), cat([f["seq_own"] for f in fins]).reshape(shape))
    ds.add(N.SEQ_ORACLE, (N.TASK, N.REGIME, N.SEED), cat([f["seq_oracle"] for f in fins]).reshape(shape))

    # the stochastic source: counter-condition
    srows = source_rows(cfg, src, seeds, lrs["source"])
    sout = train_source(cfg, srows)
    ds.add(N.SRC_TRAIN_LOSS, (N.REGIME, N.SEED, N.SRC_LOG_STEP), np.asarray(sout.loss).reshape(R, K, -1))
    ds.add(N.SRC_CURVE_NLL, (N.REGIME, N.SEED, N.SRC_LOG_STEP), np.asarray(sout.curve).reshape(R, K, -1))
    ev = evaluate_source(cfg, src, sout.params, srows)
    for name, key in ((N.SRC_KL_TRUE, "kl_true"), (N.SRC_N_TRUE, "n_true"), (N.SRC_KL_OWN, "kl_own"),
                      (N.SRC_N_OWN, "n_own"), (N.SRC_N_IMPOSSIBLE, "n_impossible")):
        ds.add(name, (N.REGIME, N.SEED, N.POSITION), ev[key].reshape(R, K, -1))
    for name, key in ((N.SRC_SEQ_KL, "seq_kl"), (N.SRC_SEQ_KL_SE, "seq_kl_se"), (N.SRC_NLL, "nll"),
                      (N.SRC_OWN_IMPOSSIBLE, "own_impossible")):
        ds.add(name, (N.REGIME, N.SEED), ev[key].reshape(R, K))
    ds.add(N.SRC_UNFINISHED, (N.SEED,), ev["unfinished"].reshape(R, K)[0])

    summary = {"regimes": list(REGIMES), "tasks": list(TASKS),
               "schedules": {"reverse, sort": [list(s) for s in regime_schedules(cfg, cfg.steps)],
                             "running_sum": [list(s) for s in regime_schedules(cfg, cfg.sum_steps)],
                             "source": [list(s) for s in regime_schedules(cfg, cfg.source_steps)]},
               "learning_rates": {t: list(lrs[t]) for t in TASKS},
               "learning_rates_selected_here": bool(cfg.select_lr), "acc_threshold": cfg.acc_threshold,
               "oracle_margin": cfg.oracle_margin}
    summary["claims"] = claims(ds, cfg)
    saved = {}
    for tree, prefix, lead in ((params[0], "conditional", (len(BLOCK_TASKS), R, K)),
                               (params[1], "running_sum", (R, K)), (sout.params, "source", (R, K))):
        flat, _ = jax.tree_util.tree_flatten_with_path(tree)
        saved.update({prefix + jax.tree_util.keystr(path): np.asarray(leaf).reshape(lead + leaf.shape[1:])
                      for path, leaf in flat})
    summary["params_file"] = ("params.npz: conditional<field> with leading axes (task: reverse, sort; regime, "
                              "seed), running_sum<field> with (regime, seed) and source<field> with (regime, seed); "
                              "LMParams fields")
    return ds, summary, {"params.npz": saved}
