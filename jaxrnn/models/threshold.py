"""Threshold-unit RNNs (Problem 4): designs, exhaustive checks, proofs for all lengths, margins.

A unit computes ``II(z) = 1 if z >= 0 else 0`` of an affine map of binary inputs. A
*design* is a step function ``step(params, state, x, act) -> (state', y, z, fan)`` on
binary vectors (unbatched; ``act`` is ``heaviside`` or a soft surrogate for training),
its parameters, its start state and a *spec*: the task as a finite automaton (for
the proof) and as an independent vectorised formula (for the exhaustive check).

``z`` (U,) are every unit's pre-activations in that step and ``fan`` (U,) the number of
terms each sums (1 for the bias + its active binary inputs): perturbing every weight
and bias by at most eps moves ``z_u`` by at most ``eps * fan_u``.
"""

from __future__ import annotations

import collections
import itertools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.core.sweep import map_configs, stable_partial


def heaviside(z: jax.Array) -> jax.Array:
    """``II(z)``: 1 where z >= 0 (the boundary counts as firing), else 0."""
    return (z >= 0).astype(z.dtype)


# ---------------------------------------------------------------------------
# Architectures
# ---------------------------------------------------------------------------

def layered_step(p, state, x, act=heaviside):
    """Hidden layer from (input, state), output from hidden; the new state is chosen units.

        h = act(Wx x + Ws s + bh),  y = act(v . h + c),  s' = [h, y][state_units]

    p: Wx (H, I), Ws (H, S), bh (H,), v (H,), c (), state_units (S,) ints; s (S,), x (I,).
    Problem 4(a) is H = S = 1 with s' = h; parity feeds back y (H = 2); the adder its carry unit (H = 3).
    """
    zh = p["Wx"] @ x + p["Ws"] @ state + p["bh"]
    h = act(zh)
    zy = p["v"] @ h + p["c"]
    y = act(zy)
    fan_h = 1 + jnp.sum(jnp.abs(x)) + jnp.sum(jnp.abs(state))
    fan_y = 1 + jnp.sum(jnp.abs(h))
    z = jnp.concatenate([zh, zy[None]])
    fan = jnp.concatenate([jnp.broadcast_to(fan_h, zh.shape), fan_y[None]])
    return jnp.concatenate([h, y[None]])[p["state_units"]], y, z, fan


def feedback_step(p, state, x, act=heaviside):
    """Problem 4(b): hidden from the current input only, output fed back, own bias at t = 1.

        h = act(W x + b);  y_1 = act(v . h + c0);  y_t = act(v . h + r y_{t-1} + c), t > 1

    p: W (H, I), b (H,), v (H,), r (), c (), c0 (); state = (started, y_prev), x (I,).
    """
    zh = p["W"] @ x + p["b"]
    h = act(zh)
    started, y_prev = state[0], state[1]
    zy = p["v"] @ h + jnp.where(started > 0.5, p["r"] * y_prev + p["c"], p["c0"])
    y = act(zy)
    fan_h = 1 + jnp.sum(jnp.abs(x))
    fan_y = 1 + jnp.sum(jnp.abs(h)) + started * jnp.abs(y_prev)
    z = jnp.concatenate([zh, zy[None]])
    fan = jnp.concatenate([jnp.broadcast_to(fan_h, zh.shape), fan_y[None]])
    return jnp.stack([jnp.ones_like(y), y]), y, z, fan


# ---------------------------------------------------------------------------
# Specs: a task as an automaton (for proofs) and as a formula (for exhaustive checks)
# ---------------------------------------------------------------------------

class Spec(NamedTuple):
    """A task on binary input streams: ``y_t`` as a function of ``x_1..x_t``.

    start / transition: the task's own automaton, ``transition(q, x) -> (q', y)`` (python ints);
    reference: ``(L, I) bits -> (L,) outputs`` in jnp, written independently of the automaton.
    """

    name: str
    n_inputs: int
    start: int
    transition: Callable
    reference: Callable


def _ref_all_ones(bits):
    return jnp.cumprod(bits[:, 0])


def _ref_agree(bits):
    return jnp.cumprod((bits[:, 0] == bits[:, 1]).astype(bits.dtype))


def _ref_parity(bits):
    return jnp.cumsum(bits[:, 0]) % 2


def _ref_add(bits):
    # y_t = bit t of A + B with A = sum_t a_t 2^t (least significant bit first), in integers.
    weights = 2 ** jnp.arange(bits.shape[0], dtype=jnp.int32)
    total = jnp.sum(bits[:, 0].astype(jnp.int32) * weights) + jnp.sum(bits[:, 1].astype(jnp.int32) * weights)
    return ((total // weights) % 2).astype(bits.dtype)


SPECS = {
    "all_ones": Spec("all_ones", 1, 1, lambda q, x: (q & x[0], q & x[0]), _ref_all_ones),
    "agree": Spec("agree", 2, 1, lambda q, x: (q & int(x[0] == x[1]), q & int(x[0] == x[1])), _ref_agree),
    "parity": Spec("parity", 1, 0, lambda q, x: (q ^ x[0], q ^ x[0]), _ref_parity),
    "add": Spec("add", 2, 0, lambda q, x: ((x[0] + x[1] + q) // 2, (x[0] + x[1] + q) % 2), _ref_add),
}


class Design(NamedTuple):
    """A threshold network with its task: step function, parameters, start state, spec."""

    name: str
    step: Callable
    params: dict
    start: tuple
    spec: Spec


def _f32(d: dict) -> dict:
    return {k: (np.asarray(v, np.int32) if k == "state_units" else np.asarray(v, np.float32)) for k, v in d.items()}


# The seed's weights (Problem 4) and two classic designs, as data.
SEED_A = Design("seed (a): all ones so far", layered_step,
                _f32({"Wx": [[-1.0]], "Ws": [[1.0]], "bh": [0.5], "v": [-1.0], "c": 0.5, "state_units": [0]}),
                (0,), SPECS["all_ones"])
SEED_B = Design("seed (b): sequences agree so far", feedback_step,
                _f32({"W": [[-1.0, -1.0], [1.0, 1.0]], "b": [0.5, -1.5], "v": [1.0, 1.0], "r": 1.0, "c": -1.5,
                      "c0": -0.5}),
                (0, 0), SPECS["agree"])
PARITY = Design("parity of the ones so far", layered_step,
                _f32({"Wx": [[1.0], [1.0]], "Ws": [[1.0], [1.0]], "bh": [-1.5, -0.5], "v": [-1.0, 1.0], "c": -0.5,
                      "state_units": [2]}),
                (0,), SPECS["parity"])
ADDER = Design("binary addition, LSB first", layered_step,
               _f32({"Wx": np.ones((3, 2)), "Ws": np.ones((3, 1)), "bh": [-0.5, -1.5, -2.5], "v": [1.0, -1.0, 1.0],
                     "c": -0.5, "state_units": [1]}),
               (0,), SPECS["add"])
DESIGNS = {"seed_a": SEED_A, "seed_b": SEED_B, "parity": PARITY, "adder": ADDER}
# Seed (a) in the sheet's names: h_t = II(w1 x_t + w2 h_{t-1} + b2), y_t = II(w3 h_t + b3).
SEED_A_NAMES = {"w1": ("Wx", (0, 0)), "w2": ("Ws", (0, 0)), "b2": ("bh", (0,)), "w3": ("v", (0,)), "b3": ("c", ())}


def check_params(design: Design, params: dict) -> dict:
    """Cast ``params`` like the design's; a wrong shape or a missing/extra array is a one-line error."""
    ref = design.params
    if set(params) != set(ref):
        raise ValueError(f"{design.name}: weights {sorted(params)} do not match the expected {sorted(ref)}")
    out = {}
    for k, v in params.items():
        v = np.asarray(v, ref[k].dtype)
        if v.shape != ref[k].shape:
            raise ValueError(f"{design.name}: weight {k!r} has shape {v.shape}, expected {ref[k].shape}")
        out[k] = v
    return out


def weight_names(design: Design) -> list[tuple[str, tuple]]:
    """Every scalar weight of a design as (array name, index), state_units excluded."""
    return [(k, idx) for k, v in design.params.items() if k != "state_units" for idx in np.ndindex(v.shape)]


def with_weight(params: dict, name: str, idx: tuple, value: float) -> dict:
    out = {k: np.array(v) for k, v in params.items()}
    out[name][idx] = value
    return out


# ---------------------------------------------------------------------------
# Running, exhaustive checking
# ---------------------------------------------------------------------------

def run_outputs(design: Design, params, bits: jax.Array, act=heaviside) -> jax.Array:
    """Outputs y_1..y_L of the network on one input sequence ``bits`` (L, I); under lax.scan."""
    return _outputs_jit(design.step, design.start, params, bits, act)


def _outputs(step_fn, start, params, bits, act=heaviside):
    def step(state, x):
        state, y, _, _ = step_fn(params, state, x, act)
        return state, y

    _, ys = lax.scan(step, jnp.asarray(start, jnp.float32), bits)
    return ys


_outputs_jit = jax.jit(_outputs, static_argnums=(0, 1, 4))


def sequence_bits(index: jax.Array, length: int, n_inputs: int) -> jax.Array:
    """The ``index``-th binary sequence of ``length`` steps of ``n_inputs`` bits: (length, n_inputs)."""
    shifts = jnp.arange(length * n_inputs, dtype=jnp.uint32)
    return ((index.astype(jnp.uint32) >> shifts) & 1).astype(jnp.float32).reshape(length, n_inputs)


MAX_SEQUENCES = 2 ** 26  # one exhaustive check: ~67M sequences, in chunks


def exhaustive_check(design: Design, params=None, *, length: int, chunk_size: int = 1 << 16) -> dict:
    """Every input sequence of ``length`` steps (2^(I L) of them; prefixes cover all shorter ones).

    Returns the number checked, the number of wrong outputs, and the first counterexample of
    minimal length (the shortest prefix on which some output is wrong), or None.
    """
    params = design.params if params is None else check_params(design, params)
    n_bits = length * design.spec.n_inputs
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if 2 ** n_bits > MAX_SEQUENCES:
        raise ValueError(f"length {length}: 2^{n_bits} sequences exceed the exhaustive limit 2^26; "
                         f"use the proof for longer sequences")
    first_bad, n_bad = map_configs(_first_bad_fn(design, length), {"index": np.arange(2 ** n_bits, dtype=np.uint32)},
                                   (jax.tree.map(jnp.asarray, params),), chunk_size=chunk_size)
    n_wrong = int(n_bad.sum())
    result = {"length": length, "sequences": 2 ** n_bits, "outputs_checked": 2 ** n_bits * length,
              "wrong_outputs": n_wrong, "counterexample": None}
    if n_wrong:
        i = int(np.argmin(first_bad))
        t = int(first_bad[i]) + 1
        bits = np.asarray(sequence_bits(jnp.uint32(i), length, design.spec.n_inputs))[:t].astype(int)
        result["counterexample"] = _counterexample(design, params, bits)
    return result


def _first_bad_row(row, params, *, step, start, spec, length):
    """(first wrong position or ``length``, number of wrong outputs) for one sequence index."""
    bits = sequence_bits(row["index"], length, spec.n_inputs)
    wrong = _outputs(step, start, params, bits) != spec.reference(bits)
    return jnp.where(wrong.any(), jnp.argmax(wrong), length), wrong.sum()


def _first_bad_fn(design: Design, length: int):
    """One function object per (architecture, spec, length): map_configs compiles each once."""
    return stable_partial(_first_bad_row, step=design.step, start=design.start, spec=design.spec, length=length)


def _counterexample(design: Design, params, bits: np.ndarray) -> dict:
    ys = np.asarray(run_outputs(design, jax.tree.map(jnp.asarray, params), jnp.asarray(bits, jnp.float32)))
    want = np.asarray(jax.jit(design.spec.reference)(jnp.asarray(bits, jnp.float32)))
    return {"inputs": bits.tolist(), "outputs": ys.astype(int).tolist(), "expected": want.astype(int).tolist()}


# ---------------------------------------------------------------------------
# Proof for all lengths: the product of the network's and the spec's automata
# ---------------------------------------------------------------------------

def _alphabet(n_inputs: int) -> list[tuple[int, ...]]:
    return list(itertools.product((0, 1), repeat=n_inputs))


def prove(design: Design, params=None) -> dict:
    """Breadth-first search of the reachable (network state, spec state) pairs.

    The network's state is a binary vector, so the pairs are finitely many; if no reachable
    pair and input gives a wrong output, the design is correct for every length. BFS order
    makes the first counterexample found one of minimal length. Also returns the reachable
    network states, the transitions, and the margin: the smallest ``|z_u| / fan_u`` over every
    unit of every reachable (state, input), i.e. the largest max-norm perturbation of all
    weights that provably changes no unit's output anywhere reachable.
    """
    params = design.params if params is None else check_params(design, params)
    step = _jitted_step(design.step)
    jparams = jax.tree.map(jnp.asarray, params)
    alphabet = _alphabet(design.spec.n_inputs)
    start = (tuple(int(s) for s in design.start), design.spec.start)
    parent = {start: None}
    queue = collections.deque([start])
    transitions, margin, tightest = [], np.inf, None
    while queue:
        node = queue.popleft()
        state, q = node
        for x in alphabet:
            new_state, y, z, fan = step(jparams, jnp.asarray(state, jnp.float32), jnp.asarray(x, jnp.float32))
            z, fan = np.asarray(z), np.asarray(fan)
            ratio = np.abs(z) / fan
            if ratio.min() < margin:
                margin, tightest = float(ratio.min()), {"state": list(state), "input": list(x),
                                                        "unit": int(ratio.argmin()), "z": float(z[ratio.argmin()])}
            q_next, want = design.spec.transition(q, x)
            got = int(y)
            new_state = tuple(int(s) for s in np.asarray(new_state))
            transitions.append({"state": list(state), "spec_state": q, "input": list(x), "output": got,
                                "expected": int(want), "next_state": list(new_state)})
            if got != want:
                inputs = [list(x)]
                back = node
                while parent[back] is not None:
                    back, x_prev = parent[back]
                    inputs.append(list(x_prev))
                bits = np.asarray(inputs[::-1], int)
                return {"proved": False, "counterexample": _counterexample(design, params, bits),
                        "reachable_states": sorted({s for (s, _) in parent}),
                        "product_states": len(parent), "transitions": transitions, "margin": None}
            nxt = (new_state, q_next)
            if nxt not in parent:
                parent[nxt] = (node, x)
                queue.append(nxt)
    return {"proved": True, "counterexample": None,
            "reachable_states": sorted({s for (s, _) in parent}), "product_states": len(parent),
            "transitions": transitions, "margin": margin, "tightest_unit": tightest}


_STEP_CACHE: dict = {}


def _jitted_step(step):
    if step not in _STEP_CACHE:
        _STEP_CACHE[step] = jax.jit(lambda p, s, x: step(p, s, x, heaviside))
    return _STEP_CACHE[step]


# ---------------------------------------------------------------------------
# The same proof as fixed-shape array code: vmappable over many weight sets
# ---------------------------------------------------------------------------

def _spec_tables(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """The spec automaton as tables over q in {0, 1}: (next q, output), each (2, A)."""
    alphabet = _alphabet(spec.n_inputs)
    table = [[spec.transition(q, x) for x in alphabet] for q in (0, 1)]
    return np.asarray([[t[0] for t in row] for row in table]), np.asarray([[t[1] for t in row] for row in table])


def correct_for_all_lengths(design: Design, params) -> jax.Array:
    """True iff the design is correct for every length (the product-automaton proof, jittable).

    Tabulates the network on every binary state (reachable or not) and every input, then
    propagates reachability in the product with the spec automaton for as many rounds as there
    are product states. Same answer as ``prove``; used to check thousands of weight sets at once.
    """
    n_state = len(design.start)
    states = jnp.asarray(list(itertools.product((0, 1), repeat=n_state)), jnp.float32)  # (2^S, S)
    inputs = jnp.asarray(_alphabet(design.spec.n_inputs), jnp.float32)  # (A, I)
    one = lambda s, x: design.step(params, s, x, heaviside)[:2]  # noqa: E731
    nxt, y = jax.vmap(lambda s: jax.vmap(lambda x: one(s, x))(inputs))(states)  # (2^S, A, S), (2^S, A)
    place = 2 ** jnp.arange(n_state - 1, -1, -1)
    nxt_idx = jnp.sum(nxt * place[None, None, :], axis=-1).astype(jnp.int32)  # (2^S, A)
    spec_next, spec_y = (jnp.asarray(t) for t in _spec_tables(design.spec))  # (2, A)
    n_prod = states.shape[0] * 2
    prod_next = (nxt_idx[:, None, :] * 2 + spec_next[None, :, :]).reshape(n_prod, -1)  # (P, A)
    wrong = (y[:, None, :] != spec_y[None, :, :]).reshape(n_prod, -1)
    start = int(np.dot(design.start, 2 ** np.arange(n_state - 1, -1, -1))) * 2 + design.spec.start
    reach = jnp.zeros(n_prod, bool).at[start].set(True)

    def spread(_, r):
        targets = jnp.where(r[:, None], prod_next, n_prod)  # unreachable rows point past the end
        return r | jnp.zeros(n_prod + 1, bool).at[targets.ravel()].set(True)[:n_prod]

    reach = lax.fori_loop(0, n_prod, spread, reach)
    return ~jnp.any(reach[:, None] & wrong)


def _perturbed_row(row, base, *, design, names):
    params = dict(base)
    for (name, idx), d in zip(names, list(row["delta"])):
        params[name] = params[name].at[idx].add(d)
    return correct_for_all_lengths(design, params)


def perturbation_survival(design: Design, eps: float, scales, n_samples: int, *, key) -> np.ndarray:
    """Fraction of random max-norm perturbations of size ``scale * eps`` under which the design stays correct.

    Every weight and bias gets an independent uniform offset in [-scale eps, scale eps];
    ``eps`` is the proved margin, so scales < 1 must all survive. Returns (len(scales),).
    """
    names = weight_names(design)
    scales = np.asarray(scales, np.float32)
    u = np.asarray(jax.random.uniform(key, (len(scales), n_samples, len(names)), minval=-1.0, maxval=1.0))
    delta = (u * scales[:, None, None] * eps).reshape(-1, len(names)).astype(np.float32)
    ok = map_configs(_perturb_fn(design), {"delta": delta}, (jax.tree.map(jnp.asarray, design.params),),
                     chunk_size=4096)
    return ok.reshape(len(scales), n_samples).mean(axis=1)


def _perturb_fn(design: Design):
    """The perturbed-proof row function; the design without its weights (hashable) is static."""
    return stable_partial(_perturbed_row, design=design._replace(params=None),
                          names=tuple(weight_names(design)))


def single_weight_mutations(design: Design, values) -> dict:
    """Set each weight, one at a time, to every value of a grid; prove or refute each variant.

    Returns per weight the grid, which variants stay correct (equivalent solutions), and for
    each broken one the minimal counterexample from the proof.
    """
    names = weight_names(design)
    values = np.asarray(values, np.float32)
    base = np.asarray([design.params[k][i] for k, i in names], np.float32)
    delta = np.zeros((len(names), len(values), len(names)), np.float32)
    for j in range(len(names)):
        delta[j, :, j] = values - base[j]
    ok = map_configs(_perturb_fn(design), {"delta": delta.reshape(-1, len(names))},
                     (jax.tree.map(jnp.asarray, design.params),)).reshape(len(names), len(values))
    out = {}
    for j, (k, idx) in enumerate(names):
        broken = []
        for v, good in zip(values, ok[j]):
            if not good:
                proof = prove(design, with_weight(design.params, k, idx, float(v)))
                broken.append({"value": float(v), "counterexample": proof["counterexample"],
                               "proved": proof["proved"]})
        out[f"{k}{list(idx)}"] = {"values": values.tolist(), "correct": ok[j].tolist(), "broken": broken,
                                  "seed_value": float(base[j])}
    return out


# ---------------------------------------------------------------------------
# Learning: II replaced by sigmoid(z / tau), tau annealed, then hardened and proved
# ---------------------------------------------------------------------------

class TrainState(NamedTuple):
    params: dict
    opt_state: object


def all_sequences(length: int, n_inputs: int) -> np.ndarray:
    """Every binary sequence of ``length`` steps: (2^(I length), length, I) float32."""
    idx = jnp.arange(2 ** (length * n_inputs), dtype=jnp.uint32)
    return np.asarray(jax.vmap(lambda i: sequence_bits(i, length, n_inputs))(idx))


def soft_loss(params, design: Design, bits, targets, tau):
    """Mean binary cross-entropy of the soft network's output logits ``z_y / tau``; bits (N, L, I)."""
    act = lambda z: jax.nn.sigmoid(z / tau)  # noqa: E731

    def logits(seq):
        def step(state, x):
            state, _, z, _ = design.step(params, state, x, act)
            return state, z[-1]

        return lax.scan(step, jnp.asarray(design.start, jnp.float32), seq)[1]

    return jnp.mean(optax.sigmoid_binary_cross_entropy(jax.vmap(logits)(bits) / tau, targets))


def train_soft(design: Design, *, keys, steps: int, learning_rate: float, tau_start: float, tau_end: float,
               train_length: int, log_every: int = 10):
    """Train one soft network per key (vmapped) from N(0, 1) weights; returns (params, loss curves).

    tau follows ``optax.exponential_decay`` from tau_start to tau_end over ``steps``
    (tau_start == tau_end: a constant temperature).
    """
    bits = all_sequences(train_length, design.spec.n_inputs)
    targets = np.asarray(jax.vmap(design.spec.reference)(jnp.asarray(bits)))
    schedule = optax.exponential_decay(tau_start, steps, tau_end / tau_start)
    opt = optax.adam(learning_rate)
    names = [k for k in design.params if k != "state_units"]

    def init(key):
        ks = jax.random.split(key, len(names))
        params = {k: jax.random.normal(kk, design.params[k].shape) for k, kk in zip(names, ks)}
        return TrainState(params, opt.init(params))

    def full(p):
        return dict(p, state_units=jnp.asarray(design.params["state_units"])) if "state_units" in design.params else p

    def update(ts, step):
        loss, g = jax.value_and_grad(lambda p: soft_loss(full(p), design, bits, targets, schedule(step)))(ts.params)
        updates, opt_state = opt.update(g, ts.opt_state, ts.params)
        return TrainState(optax.apply_updates(ts.params, updates), opt_state), loss

    def run(key):
        ts, losses = lax.scan(update, init(key), jnp.arange(steps))
        return full(ts.params), losses[::log_every]

    return jax.jit(jax.vmap(run))(keys)


def check_sequences(design: Design, bits, params=None) -> dict:
    """Check the design on given input sequences ``bits`` (N, L, I) of 0/1 values.

    Non-binary values, or a last axis that is not the spec's input width, are a one-line error.
    """
    params = design.params if params is None else check_params(design, params)
    bits = np.asarray(bits)
    if bits.ndim != 3 or bits.shape[-1] != design.spec.n_inputs:
        raise ValueError(f"{design.name}: inputs must have shape (N, L, {design.spec.n_inputs}), got {bits.shape}")
    if not np.isin(bits, (0, 1)).all():
        bad = bits[~np.isin(bits, (0, 1))].ravel()[0]
        raise ValueError(f"{design.name}: inputs must be binary (0 or 1), found {bad!r}")
    x = jnp.asarray(bits, jnp.float32)
    p = jax.tree.map(jnp.asarray, params)
    wrong = np.asarray(jax.jit(jax.vmap(lambda s: run_outputs(design, p, s) != design.spec.reference(s)))(x))
    return {"sequences": int(bits.shape[0]), "wrong_outputs": int(wrong.sum())}
