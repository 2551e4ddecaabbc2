"""The teacher_forcing study (Problem 2, claims C6-C8): training regimes for a GRU language model,
measured exactly against a source whose probabilities are known, and on digit reversal."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.models import decoding as dec
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.io.results import Dataset
from jaxrnn.studies.teacher_forcing.claims import claims


def _kl(p_true, logp_model):
    """KL(p_true || p_model) with 0 log 0 = 0; p_true (V,), logp_model (V,)."""
    return jnp.sum(jnp.where(p_true > 0, p_true * (jnp.log(jnp.where(p_true > 0, p_true, 1.0)) - logp_model), 0.0))


def prefix_kl(p: lm.LMParams, src: S.Source, tokens, length):
    """Per position t: KL(p_true(.|y_<t) || p_model(.|y_<t)) along one sequence (L,), and whether the
    position counts (t < length and the prefix y_<t is possible under the true source)."""

    def step(carry, yt):
        h, state, possible = carry
        y, t = yt
        logp_model = jax.nn.log_softmax(lm.lm_logits(p, h))
        kl = _kl(jnp.exp(S.source_logits(src, state)), logp_model)
        valid = (t < length) & possible
        possible = possible & jnp.isfinite(S.source_logits(src, state)[y])
        return (lm.lm_transition(p, h, y), S.source_transition(src, state, y), possible), (kl, valid)

    _, (kl, valid) = lax.scan(step, (lm.lm_state0(p), S.source_state0(), jnp.bool_(True)),
                              (tokens, jnp.arange(tokens.shape[0])))
    return jnp.where(valid, kl, 0.0), valid


def model_log_prob(p: lm.LMParams, tokens, length):
    def step(h, yt):
        y, t = yt
        lp = jnp.where(t < length, jax.nn.log_softmax(lm.lm_logits(p, h))[y], 0.0)
        return lm.lm_transition(p, h, y), lp

    return jnp.sum(lax.scan(step, lm.lm_state0(p), (tokens, jnp.arange(tokens.shape[0])))[1])


def exposure_and_kl(p: lm.LMParams, src: S.Source, key, n: int, max_len: int, vocab: int):
    """Per-position KL on (a) true prefixes and (b) the model's own samples; Monte Carlo sequence KL
    with its standard error; the rate of impossible model samples."""
    k_true, k_model = jax.random.split(key)
    true = jax.vmap(lambda k: dec._decode(lambda kq, lg: jax.random.categorical(kq, lg), S.source_logits,
                                          S.source_transition, src, S.source_state0(), k, max_len, vocab))(
        jax.random.split(k_true, n))
    own = jax.vmap(lambda k: dec._decode(lambda kq, lg: jax.random.categorical(kq, lg), lm.lm_logits,
                                         lm.lm_transition, p, lm.lm_state0(p), k, max_len, vocab))(
        jax.random.split(k_model, n))
    kl_a, va = jax.vmap(lambda t, l: prefix_kl(p, src, t, l))(true.tokens, true.length)
    kl_b, vb = jax.vmap(lambda t, l: prefix_kl(p, src, t, l))(own.tokens, own.length)
    per_pos = lambda kl, v: (kl.sum(0) / jnp.maximum(v.sum(0), 1), v.sum(0))  # noqa: E731
    lp_true = jax.vmap(S.sequence_log_prob, in_axes=(None, 0, 0))(src, true.tokens, true.length)
    lp_model = jax.vmap(lambda t, l: model_log_prob(p, t, l))(true.tokens, true.length)
    diff = jnp.where(true.finished, lp_true - lp_model, 0.0)
    m = jnp.maximum(true.finished.sum(), 1)
    mean = diff.sum() / m
    stderr = jnp.sqrt(jnp.sum(jnp.where(true.finished, (diff - mean) ** 2, 0.0)) / m / m)
    own_lp = jax.vmap(S.sequence_log_prob, in_axes=(None, 0, 0))(src, own.tokens, own.length)
    impossible = jnp.mean(own.finished & ~jnp.isfinite(own_lp))
    return per_pos(kl_a, va), per_pos(kl_b, vb), (mean, stderr), impossible


def exact_sequence_kl(p: lm.LMParams, src: S.Source, max_len: int, vocab: int) -> tuple[float, float]:
    """KL(p_true || p_model) summed over every complete sequence of at most max_len ids, and the
    true mass those sequences cover (the truncation is reported, not hidden)."""
    _, _, raw_true = dec.enumerate_sequences(S.source_logits, S.source_transition, src, S.source_state0(),
                                             max_len=max_len, eos_id=vocab, vocab=vocab + 1)
    _, _, raw_model = dec.enumerate_sequences(lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), max_len=max_len,
                                              eos_id=vocab, vocab=vocab + 1)
    pt = np.exp(raw_true.astype(np.float64))
    keep = pt > 0
    return float(np.sum(pt[keep] * (raw_true[keep] - raw_model[keep]))), float(pt.sum())


def reverse_accuracy(p: lm.LMParams, tokens, digits: int):
    """Per output position: correct with the oracle prefix (teacher forced) and with its own prefix
    (greedy, fed its previous outputs after SEP); tokens (2m+2,)."""

    def step(carry, yt):
        h_oracle, h_own, prev_own = carry
        y, t = yt
        pred_o = jnp.argmax(lm.lm_logits(p, h_oracle))
        pred_s = jnp.argmax(lm.lm_logits(p, h_own))
        own_input = jnp.where(t <= digits, y, pred_s)  # the given part is always true
        return (lm.lm_transition(p, h_oracle, y), lm.lm_transition(p, h_own, own_input), pred_s), \
            (pred_o == y, pred_s == y)

    h0 = lm.lm_state0(p)
    _, (ok_oracle, ok_own) = lax.scan(step, (h0, h0, jnp.int32(0)), (tokens, jnp.arange(tokens.shape[0])))
    return ok_oracle[digits + 1:], ok_own[digits + 1:]


def study(cfg, *, key):
    k_src, k_train, k_eval, k_rev = jax.random.split(key, 4)
    src = S.random_source(k_src, cfg.n_states, cfg.vocab, forbidden=cfg.forbidden, eos=cfg.eos)
    schedules = [tuple(s) for s in cfg.schedules]
    names = [f"{kind}({k:g})" if kind in ("constant", "exponential", "inverse_sigmoid") else
             f"linear({k:g}, c={c:g})" for kind, k, c, _ in schedules]
    ds = Dataset()
    ds.add_axis("regime", np.asarray(names))
    ds.add_axis("seed", np.arange(cfg.seeds))
    ds.add_axis("width", np.asarray(cfg.widths))
    ds.add_axis("position", np.arange(cfg.sample_len))
    ds.add_axis("log_step", np.arange(cfg.steps // cfg.log_every) * cfg.log_every)
    ds.add("eps", ("regime", "log_step"), np.stack([
        np.asarray(lm.schedule_eps(lm.SCHEDULES.index(kind), k, c, e, ds["log_step"])) for kind, k, c, e in schedules]))
    rows = lm.schedule_rows(schedules, cfg.seeds, source=src)
    shape = (len(schedules), cfg.seeds)
    losses, tf_losses, kl_a, kl_b, n_a, n_b, mc, mc_se, imp, exact = ([] for _ in range(10))
    saved = {}  # trained parameters, reusable without retraining (params.npz)
    for width in cfg.widths:
        out = lm.train_many(rows, vocab=cfg.vocab, n=width, steps=cfg.steps, batch=cfg.batch, max_len=cfg.sample_len,
                            lr=cfg.lr, log_every=cfg.log_every)
        losses.append(np.asarray(out.loss).reshape(shape + (-1,)))
        tf_losses.append(np.asarray(out.tf_loss).reshape(shape + (-1,)))
        ev = jax.jit(jax.vmap(lambda p: exposure_and_kl(p, src, k_eval, cfg.n_eval, cfg.sample_len, cfg.vocab)))(
            out.params)
        (a, na), (b, nb), (m, se), im = jax.tree.map(np.asarray, ev)
        kl_a.append(a.reshape(shape + (-1,)))
        kl_b.append(b.reshape(shape + (-1,)))
        n_a.append(na.reshape(shape + (-1,)))
        n_b.append(nb.reshape(shape + (-1,)))
        mc.append(m.reshape(shape))
        mc_se.append(se.reshape(shape))
        imp.append(im.reshape(shape))
        params = [jax.tree.map(lambda x: x[i], out.params) for i in range(len(rows["seed"]))]
        flat, _ = jax.tree_util.tree_flatten_with_path(out.params)
        saved.update({f"width{width}/" + jax.tree_util.keystr(path): np.asarray(leaf).reshape(shape + leaf.shape[1:])
                      for path, leaf in flat})
        exact.append(np.asarray([exact_sequence_kl(p, src, cfg.enum_len, cfg.vocab) for p in params]).reshape(
            shape + (2,)))
    dims = ("width", "regime", "seed")
    ds.add("train_loss", dims + ("log_step",), np.stack(losses))
    ds.add("tf_loss", dims + ("log_step",), np.stack(tf_losses))
    ds.add("kl_true_prefix", dims + ("position",), np.stack(kl_a))
    ds.add("kl_own_prefix", dims + ("position",), np.stack(kl_b))
    ds.add("n_true_prefix", dims + ("position",), np.stack(n_a))
    ds.add("n_own_prefix", dims + ("position",), np.stack(n_b))
    ds.add("seq_kl_mc", dims, np.stack(mc))
    ds.add("seq_kl_mc_stderr", dims, np.stack(mc_se))
    ds.add("impossible_rate", dims, np.stack(imp))
    ds.add_axis("exact_field", np.asarray(["kl", "covered_mass"]))
    ds.add("seq_kl_exact", dims + ("exact_field",), np.stack(exact))
    # digit reversal: error compounding with the model's own prefix
    rev_rows = lm.schedule_rows(schedules, cfg.seeds)
    out = lm.train_many(rev_rows, vocab=11, n=cfg.reverse_width, steps=cfg.reverse_steps, batch=cfg.batch, lr=cfg.lr,
                        log_every=cfg.log_every, task="reverse", digits=cfg.digits)
    test = lm.reverse_data(None, k_rev, batch=cfg.n_eval, digits=cfg.digits).tokens
    acc = jax.jit(jax.vmap(lambda p: jax.vmap(lambda t: reverse_accuracy(p, t, cfg.digits))(test)))(out.params)
    ds.add_axis("output_position", np.arange(1, cfg.digits + 2))
    ds.add("reverse_acc_oracle", ("regime", "seed", "output_position"),
           np.asarray(acc[0]).mean(axis=1).reshape(shape + (-1,)))
    ds.add("reverse_acc_own", ("regime", "seed", "output_position"),
           np.asarray(acc[1]).mean(axis=1).reshape(shape + (-1,)))
    summary = summarize(ds, cfg)
    summary["claims"] = claims(summary, cfg)
    summary["params_file"] = "params.npz: width<n>/<LMParams field>, leading axes (regime, seed); source seed in config"
    return ds, summary, {"params.npz": saved}


def summarize(ds: Dataset, cfg) -> dict:
    out = {"regimes": list(ds["regime"]), "widths": [int(w) for w in ds["width"]], "per_width": {}}
    for w, width in enumerate(ds["width"]):
        rows = {}
        for r, name in enumerate(ds["regime"]):
            gap = ds["kl_own_prefix"][w, r] - ds["kl_true_prefix"][w, r]  # (seed, position)
            both = (ds["n_true_prefix"][w, r] > 0) & (ds["n_own_prefix"][w, r] > 0)
            late = np.arange(ds["position"].size) >= 4
            rows[str(name)] = {
                "final_tf_nll": float(ds["tf_loss"][w, r, :, -1].mean()),
                "seq_kl_mc": float(ds["seq_kl_mc"][w, r].mean()),
                "seq_kl_mc_stderr": float(np.sqrt((ds["seq_kl_mc_stderr"][w, r] ** 2).mean() / cfg.seeds)),
                "seq_kl_exact_truncated": float(ds["seq_kl_exact"][w, r, :, 0].mean()),
                "covered_mass": float(ds["seq_kl_exact"][w, r, :, 1].mean()),
                "impossible_rate": float(ds["impossible_rate"][w, r].mean()),
                "kl_true_prefix_mean": float(ds["kl_true_prefix"][w, r][both].mean()) if both.any() else float("nan"),
                "exposure_gap_mean": float(gap[both].mean()) if both.any() else float("nan"),
                "exposure_gap_late": float(gap[both & late[None, :]].mean()) if (both & late).any() else float("nan"),
            }
        out["per_width"][str(int(width))] = rows
    rev = {}
    for r, name in enumerate(ds["regime"]):
        rev[str(name)] = {"oracle": ds["reverse_acc_oracle"][r].mean(axis=0).tolist(),
                          "own": ds["reverse_acc_own"][r].mean(axis=0).tolist()}
    out["reverse"] = rev
    return out


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.seed))
