"""Estimated memory and time of a decoding config, from its sizes (checked before computing).

Memory: the training corpora and samples (int32 ids over max_len per sequence, for every model), the
exact search's node buffers (max_nodes x max_len per model) and the beams.
Time: GRU training work (models x steps x batch x length x width^2) plus the searches, scaled from the
default config's measured wall time (REFERENCE_S, 2 CPU cores).
"""

from jaxrnn.io.runner import Cost

REFERENCE_S = 59.0  # results/decoding/config.json: wall time of the default config


def _models(c) -> int:
    return c.n_sources * len(c.noise_shares)


def _work(c) -> float:
    train = _models(c) * c.gru_steps * c.gru_batch * c.max_len * (c.gru_hidden ** 2 + c.gru_hidden * c.vocab)
    search = _models(c) * c.max_nodes * (c.gru_hidden ** 2 + c.gru_hidden * c.vocab)
    sampling = _models(c) * (c.n_samples * (len(c.top_ks) + len(c.top_ps) + len(c.temperatures) + 2) + c.n_true) \
        * c.max_len * (c.gru_hidden ** 2 + c.gru_hidden * c.vocab)
    return train + search + sampling


def cost(config) -> Cost:
    from jaxrnn.studies.decoding.config import Config

    c = config
    sequences = _models(c) * (c.corpus_size + c.n_true + c.n_samples * (len(c.top_ks) + len(c.top_ps)
                                                                        + len(c.temperatures) + 2))
    memory = 4 * sequences * c.max_len * 4 + 4 * _models(c) * c.max_nodes * (c.max_len + c.gru_hidden) \
        + 4 * _models(c) * max(c.beam_widths) * c.max_len * (c.vocab + 1) * 4
    return Cost(memory_bytes=memory, seconds=REFERENCE_S * _work(config) / _work(Config.default()))
