"""Conditional digit tasks with deterministic targets, written as one token stream for a language model.

Ids: digits 0-9, SEP = 10, EOS = 11 (BOS = 12, input only). Every stream has 2m + 2 tokens.

- "reverse" and "sort" (block layout): ``d_1 .. d_m SEP o_1 .. o_m EOS``; o_j = d_{m+1-j} (reverse),
  o_1 <= .. <= o_m is d sorted (sort). The output is a function of the input and the position: the
  fed-back previous output adds nothing the input does not hold.
- "running_sum" (interleaved layout): ``d_1 o_1 d_2 o_2 .. d_m o_m SEP EOS`` with
  o_j = (d_1 + .. + d_j) mod 10 = (o_{j-1} + d_j) mod 10. Each output is the previous OUTPUT plus the
  digit just read, so a model can carry the sum in the fed-back token (an early mistake then shifts
  every later output: errors compound) or keep it in its own state.

Given tokens (the digits and SEP) are always fed true and never scored; the outputs o_1..o_m and EOS
are scored, and under free running / scheduled sampling the input after an output may be the model's
own token. Position t of the stream holds tokens[t]; the model predicts tokens[t] from the inputs
BOS, tokens[0..t-1]. ``forced = ~scored`` in both layouts (EOS, the last token, is never an input).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxrnn.models import lm

TASKS = ("reverse", "sort", "running_sum")
RUNNING_SUM = TASKS.index("running_sum")
SEP, EOS = 10, 11
VOCAB = 11  # digits and SEP; EOS = VOCAB as in jaxrnn.models.lm


def targets(task_id, digits_in):
    """Output digits for a traced task id (0 reverse, 1 sort, 2 running sum mod 10): (..., m) -> (..., m)."""
    return jnp.select([task_id == 1, task_id == RUNNING_SUM],
                      [jnp.sort(digits_in, axis=-1), jnp.cumsum(digits_in, axis=-1) % 10], digits_in[..., ::-1])


def output_positions(task_id, digits: int):
    """(m + 1,) stream positions of o_1..o_m and EOS: m+1..2m+1 (block), 1, 3, .., 2m-1, 2m+1 (interleaved)."""
    j = jnp.arange(digits + 1)
    interleaved = jnp.where(j < digits, 2 * j + 1, 2 * digits + 1)
    return jnp.where(task_id == RUNNING_SUM, interleaved, digits + 1 + j)


def scored_mask(task_id, digits: int):
    """(2m + 2,) bool: the stream positions that are outputs (scored; possibly fed from the model)."""
    return jnp.zeros(2 * digits + 2, bool).at[output_positions(task_id, digits)].set(True)


def digit_batch(task_id, key, *, batch: int, digits: int) -> lm.Data:
    """A batch of ``batch`` random examples with m = ``digits``: tokens (B, 2m + 2), loss_mask = the
    output positions, forced = every other position (the given digits and SEP)."""
    d = lm.flat_draw(jax.random.randint, key, (batch, digits), minval=0, maxval=10)
    o = targets(task_id, d)
    sep, eos = jnp.full((batch, 1), SEP), jnp.full((batch, 1), EOS)
    block = jnp.concatenate([d, sep, o, eos], axis=1)
    inter = jnp.concatenate([jnp.stack([d, o], axis=2).reshape(batch, 2 * digits), sep, eos], axis=1)
    tokens = jnp.where(task_id == RUNNING_SUM, inter, block)
    scored = jnp.broadcast_to(scored_mask(task_id, digits), tokens.shape)
    return lm.Data(tokens, jnp.full((batch,), 2 * digits + 2), scored, ~scored)


def row_batch(row, key, *, batch: int, digits: int) -> lm.Data:
    """``digit_batch`` for a config row {"task", ...} (the data_fn of ``lm.train_rows``)."""
    return digit_batch(row["task"], key, batch=batch, digits=digits)


def heldout_set(task_id, test_seed, *, n_test: int, digits: int):
    """The fixed held-out examples of a task: tokens (n_test, 2m+2) from ``key(test_seed)``."""
    return digit_batch(task_id, jax.random.key(test_seed), batch=n_test, digits=digits).tokens


def _correct(p: lm.LMParams, tokens, task_id, digits: int, own: bool):
    """(m+1,) bool: whether the greedy prediction at each output position is right, when the model
    reads its own previous outputs (``own``) or the true ones; given tokens are always read true."""
    scored = scored_mask(task_id, digits)

    def step(h, ys):
        y, out = ys
        pred = jnp.argmax(lm.lm_logits(p, h))
        fed = jnp.where(out, pred, y) if own else y
        return lm.lm_transition(p, h, fed), pred == y

    _, ok = lax.scan(step, lm.lm_state0(p), (tokens, scored))
    return ok[output_positions(task_id, digits)]


def own_correct(p: lm.LMParams, tokens, digits: int, task_id=0):
    """Greedy decoding of one example: (m+1,) bool per output position (o_1..o_m, EOS), the model
    reading its own previous outputs (given tokens read true)."""
    return _correct(p, tokens, task_id, digits, True)


def oracle_correct(p: lm.LMParams, tokens, digits: int, task_id=0):
    """(m+1,) bool: the greedy prediction at each output position after the TRUE prefix (teacher forced)."""
    return _correct(p, tokens, task_id, digits, False)


def accuracy(p: lm.LMParams, tokens, digits: int, task_id=0) -> dict:
    """Over a test set tokens (N, 2m+2): per output position the share correct with own prefixes
    (greedy decoding) and with true prefixes ((m+1,) each), and the share of examples whose whole
    output (EOS included) is correct, each way."""
    ok_s = jax.vmap(lambda t: own_correct(p, t, digits, task_id))(tokens)
    ok_o = jax.vmap(lambda t: oracle_correct(p, t, digits, task_id))(tokens)
    return {"acc_own": ok_s.mean(0), "acc_oracle": ok_o.mean(0), "seq_own": ok_s.all(1).mean(),
            "seq_oracle": ok_o.all(1).mean()}


def row_accuracy(params, row, *, n_test: int, digits: int) -> dict:
    """Per output position, the greedy accuracy with own and with true prefixes on the row's fixed
    test set (row {"task", "test_seed"}; the learning-curve eval_fn of ``lm.train_rows``)."""
    tokens = heldout_set(row["task"], row["test_seed"], n_test=n_test, digits=digits)
    acc = accuracy(params, tokens, digits, row["task"])
    return {"acc_own": acc["acc_own"], "acc_oracle": acc["acc_oracle"]}
