"""Conditional digit tasks with deterministic targets, written as one token stream for a language model.

    d_1 .. d_m  SEP  o_1 .. o_m  EOS        ids: digits 0-9, SEP = 10, EOS = 11 (BOS = 12, input only)

task "reverse": o_j = d_{m+1-j}; task "sort": o_1 <= .. <= o_m is d sorted. The given part
(d_1..d_m and SEP) is always fed true and never scored; the output part o_1..o_m, EOS is scored.
Position t of the stream holds tokens[t]; the model predicts tokens[t] from the inputs BOS,
tokens[0..t-1], so the first scored prediction (t = m + 1) reads SEP as its last input.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxrnn.models import lm

TASKS = ("reverse", "sort")
SEP, EOS = 10, 11
VOCAB = 11  # digits and SEP; EOS = VOCAB as in jaxrnn.models.lm


def targets(task_id, digits_in):
    """Output digits for a traced task id (0 reverse, 1 sort): digits_in (..., m) -> (..., m)."""
    return jnp.where(task_id == 1, jnp.sort(digits_in, axis=-1), digits_in[..., ::-1])


def digit_batch(task_id, key, *, batch: int, digits: int) -> lm.Data:
    """A batch of ``batch`` random examples with m = ``digits``: tokens (B, 2m + 2).

    forced[t] = t <= m: every input of the given part (d_1..d_m and SEP) is the true token, under
    any regime; scored[t] = t > m: o_1..o_m and EOS."""
    d = lm.flat_draw(jax.random.randint, key, (batch, digits), minval=0, maxval=10)
    tokens = jnp.concatenate([d, jnp.full((batch, 1), SEP), targets(task_id, d), jnp.full((batch, 1), EOS)], axis=1)
    steps = jnp.arange(2 * digits + 2)[None, :]
    scored = jnp.broadcast_to(steps > digits, tokens.shape)
    forced = jnp.broadcast_to(steps <= digits, tokens.shape)
    return lm.Data(tokens, jnp.full((batch,), 2 * digits + 2), scored, forced)


def row_batch(row, key, *, batch: int, digits: int) -> lm.Data:
    """``digit_batch`` for a config row {"task", ...} (the data_fn of ``lm.train_rows``)."""
    return digit_batch(row["task"], key, batch=batch, digits=digits)


def heldout_set(task_id, test_seed, *, n_test: int, digits: int):
    """The fixed held-out examples of a task: tokens (n_test, 2m+2) from ``key(test_seed)``."""
    return digit_batch(task_id, jax.random.key(test_seed), batch=n_test, digits=digits).tokens


def own_correct(p: lm.LMParams, tokens, digits: int):
    """Greedy decoding of one example (tokens (2m+2,)) after its given part: (m+1,) bool, whether the
    prediction at each output position (o_1..o_m, EOS) is right when the model reads its own previous
    outputs (the given part, SEP included, is read true)."""

    def step(h, yt):
        y, t = yt
        pred = jnp.argmax(lm.lm_logits(p, h))
        return lm.lm_transition(p, h, jnp.where(t <= digits, y, pred)), pred == y

    _, ok = lax.scan(step, lm.lm_state0(p), (tokens, jnp.arange(tokens.shape[0])))
    return ok[digits + 1:]


def oracle_correct(p: lm.LMParams, tokens, digits: int):
    """(m+1,) bool: the greedy prediction at each output position after the TRUE prefix (teacher forced)."""

    def step(h, y):
        return lm.lm_transition(p, h, y), jnp.argmax(lm.lm_logits(p, h)) == y

    _, ok = lax.scan(step, lm.lm_state0(p), tokens)
    return ok[digits + 1:]


def accuracy(p: lm.LMParams, tokens, digits: int) -> dict:
    """Over a test set tokens (N, 2m+2): per output position the share correct with own prefixes
    (greedy decoding) and with true prefixes ((m+1,) each), and the share of examples whose whole
    output (EOS included) is correct, each way."""
    ok_s = jax.vmap(lambda t: own_correct(p, t, digits))(tokens)
    ok_o = jax.vmap(lambda t: oracle_correct(p, t, digits))(tokens)
    return {"acc_own": ok_s.mean(0), "acc_oracle": ok_o.mean(0), "seq_own": ok_s.all(1).mean(),
            "seq_oracle": ok_o.all(1).mean()}


def row_own_accuracy(params, row, *, n_test: int, digits: int) -> dict:
    """Own-prefix (greedy) accuracy per output position and sequence accuracy on the row's fixed test
    set (row {"task", "test_seed"}; the learning-curve eval_fn of ``lm.train_rows``)."""
    ok = jax.vmap(lambda t: own_correct(params, t, digits))(
        heldout_set(row["task"], row["test_seed"], n_test=n_test, digits=digits))
    return {"acc_own": ok.mean(0), "seq_own": ok.all(1).mean()}
