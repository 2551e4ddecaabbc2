"""Every core, every process: the numbers never depend on how many devices or processes computed them.

- every study's quick config, computed over 4 forced host devices and over 1: identical arrays (bit for
  bit) and identical summaries;
- a grid and both training loops under ``jax.distributed`` with 2 processes on localhost: identical to
  one process, and only process 0 writes.

Each check runs in fresh subprocesses (the device count and the distributed runtime are fixed when
JAX starts).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import numpy as np

from tests.conftest import subprocess_env

STUDIES_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from jaxrnn.io.runtime import configure_runtime
    configure_runtime()
    import jax
    from jaxrnn.core import sweep
    from jaxrnn.core.sweep import map_configs, stable_partial, using_devices
    from jaxrnn.studies.spectral.compute import _gated_row
    from experiments.sweep import STUDIES
    from jaxrnn.io.results import _jsonable
    assert jax.local_device_count() == 4, jax.local_devices()

    def same(a, b):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and (
            a.tobytes() == b.tobytes() if a.dtype.kind in "biufc" else bool(np.all(a == b)))

    # issue 10's case: GRU (and LSTM) Jacobian rows at init, 4 blocks of 64 rows over 4 devices vs 1
    xs = np.asarray(jax.random.normal(jax.random.key(0), (40, 4)), np.float32)
    for model in ("gru", "lstm"):
        fn, seeds = stable_partial(_gated_row, model=model, n=8), {"seed": np.arange(200, dtype=np.int32)}
        with using_devices(every_device=True):
            four = map_configs(fn, seeds, (xs, np.array([0, 19, 39])), chunk_size=64)
        one = map_configs(fn, seeds, (xs, np.array([0, 19, 39])), chunk_size=64, devices=jax.local_devices()[:1])
        assert all(same(a, b) for a, b in zip(four, one)), model
    assert len(sweep.blocks_per_device) == 4, sweep.blocks_per_device
    print("identical gated rows", flush=True)

    def flat(out):
        data, summary = out[0], out[1]
        arrays = {f"axis:{k}": v for k, v in data.axes.items()}
        arrays.update({k: v for k, (_, v) in data.arrays.items()})
        for file_name, content in (out[2] if len(out) == 3 and out[2] else {}).items():
            arrays.update({f"{file_name}:{k}": np.asarray(v) for k, v in content.items()})
        return arrays, json.dumps(_jsonable(summary), sort_keys=True)

    for name in sys.argv[1].split(","):
        config = STUDIES[name].config.quick()
        with using_devices(every_device=True):  # every grid of more than one block uses several devices
            (four, s4) = flat(STUDIES[name].compute(config))
        with using_devices(jax.local_devices()[:1]):
            (one, s1) = flat(STUDIES[name].compute(config))
        assert sorted(four) == sorted(one), (name, sorted(four), sorted(one))
        for k in four:
            assert same(four[k], one[k]), f"{name}: {k} differs between 4 devices and 1"
        assert s4 == s1, f"{name}: summary differs between 4 devices and 1"
        print("identical", name, len(four), "arrays", flush=True)
    print("blocks per device:", dict(sweep.blocks_per_device), flush=True)
""")


def test_every_study_quick_config_is_identical_on_four_devices_and_one():
    """Sharded == unsharded for every study's quick config, bit for bit (issues 10 and 13)."""
    from experiments.sweep import EXPERIMENTS

    env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", STUDIES_SCRIPT, ",".join(EXPERIMENTS)], capture_output=True,
                         text=True, env=env, timeout=1800)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    assert "identical gated rows" in out.stdout, out.stdout
    assert out.stdout.count("identical ") == len(EXPERIMENTS) + 1, out.stdout


DISTRIBUTED_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from jaxrnn.io.runtime import configure_runtime, is_writer
    configure_runtime()  # joins the distributed runtime when JAXRNN_COORDINATOR is set
    import jax
    from jaxrnn.core.sweep import grid, map_configs
    from jaxrnn.core.scalar_sweeps import xs_table
    from jaxrnn.models import lm, sources, train
    from jaxrnn.studies.gradient_decay.compute import ROW_FNS

    g = grid(w=np.linspace(-12, 12, 23), b=np.linspace(-3, 3, 5))
    n = len(g["w"])
    rows = {"w": g["w"].astype(np.float32), "b": g["b"].astype(np.float32), "u": np.ones(n, np.float32),
            "h0": np.full(n, 0.5, np.float32), "input": (np.arange(n) % 2).astype(np.int32)}
    xs = xs_table(("noise", "zero"), 64, key=jax.random.key(0), dtype=np.float32)
    sign, log_abs = map_configs(ROW_FNS["log_grad_row"]["sigmoid"], rows, (xs, np.array([0, 31, 63], np.int32)),
                                chunk_size=16)  # 2 blocks of 64 rows
    cfg = {"method": np.array([2, 1, 0, 2, 1], np.int32), "tau": np.array([0.5, 0.1, 1.0, 1.0, 0.3], np.float32),
           "opt": np.array([0, 1, 0, 1, 0], np.int32), "lr": np.full(5, 1e-2, np.float32),
           "radius": np.array([1.5, 1.0, 2.0, 1.2, 0.9], np.float32), "seed": np.arange(5, dtype=np.int32)}
    res = train.train_grid(cfg, task="addition", n=6, length_min=6, length_max=6, batch=8, steps=20, checks=2,
                           n_eval=32, eval_key=jax.random.key(9), chunk_rows=1, progress=False)  # 5 blocks of 1 row
    src = sources.random_source(jax.random.key(4), 3, 3)
    lm_rows = lm.schedule_rows([("constant", 1.0, 0.0, 0.0), ("inverse_sigmoid", 5.0, 0.0, 0.0)], 2, source=src)
    out = lm.train_many(lm_rows, vocab=3, n=6, steps=10, batch=4, max_len=8, lr=3e-3, log_every=10, parts=2)
    arrays = {"sign": sign, "log_abs": log_abs, **{f"train_{k}": v for k, v in res._asdict().items() if k != "grads"},
              **{f"train_grads_{i}": g for i, g in enumerate(jax.tree.leaves(res.grads))},
              "lm_loss": out.loss, "lm_out": out.params.out}
    if is_writer():
        np.savez(sys.argv[1], **arrays)
    print("process", jax.process_index(), "of", jax.process_count(), "writer", is_writer(), flush=True)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_on_localhost_equal_one_process(tmp_path):
    """jax.distributed, 2 processes x 1 CPU device: each computes its share of the blocks, the results
    are gathered once, only process 0 writes; the arrays equal a 1-process run bit for bit."""
    base = dict(XLA_FLAGS="--xla_force_host_platform_device_count=1", JAX_PLATFORMS="cpu")
    one = subprocess.run([sys.executable, "-c", DISTRIBUTED_SCRIPT, str(tmp_path / "one.npz")], capture_output=True,
                         text=True, env=subprocess_env(**base), timeout=900)
    assert one.returncode == 0, one.stderr[-4000:]
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, "-c", DISTRIBUTED_SCRIPT, str(tmp_path / f"two_{i}.npz")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=subprocess_env(**base, JAXRNN_COORDINATOR=f"127.0.0.1:{port}",
                                                 JAXRNN_NUM_PROCESSES="2", JAXRNN_PROCESS_ID=str(i),
                                                 JAXRNN_DISTRIBUTED_TIMEOUT="120"))
             for i in range(2)]
    try:
        outs = [p.communicate(timeout=900) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (stdout, stderr) in zip(procs, outs):
        assert p.returncode == 0, stderr[-4000:]
    assert "process 0 of 2 writer True" in outs[0][0] and "process 1 of 2 writer False" in outs[1][0]
    assert (tmp_path / "two_0.npz").exists() and not (tmp_path / "two_1.npz").exists()
    with np.load(tmp_path / "one.npz") as a, np.load(tmp_path / "two_0.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes(), k


def test_runtime_exposes_cores_unless_the_user_chose():
    """``configure_runtime`` sets the host device count from the usable cores; a count already in
    XLA_FLAGS (or JAXRNN_DEVICES) wins."""
    script = "from jaxrnn.io.runtime import configure_runtime, usable_cores; configure_runtime(); import jax, json; " \
             "print(json.dumps([jax.local_device_count(), usable_cores()]))"
    env = subprocess_env(JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    env.pop("JAXRNN_DEVICES", None)
    runs = {"auto": env, "user": dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=3"),
            "env": dict(env, JAXRNN_DEVICES="5")}
    counts = {}
    for name, e in runs.items():
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=e, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        counts[name] = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts["auto"][0] == counts["auto"][1] >= 1
    assert counts["user"][0] == 3 and counts["env"][0] == 5
