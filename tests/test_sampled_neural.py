"""The neural mediator (the ``[torch]`` extra): protocol, learning, weights."""

from __future__ import annotations

import copy
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import regretgap as rg  # noqa: E402
import regretgap.sampled  # noqa: E402
from regretgap.errors import ValidationError  # noqa: E402
from regretgap.games.random import random_game  # noqa: E402
from regretgap.sampled import MediatorPolicy  # noqa: E402
from regretgap.sampled.neural import NeuralMediator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = (2, 3, 2)  # A = 12
SMALL = {"hidden": (16,), "epochs": 5, "batch_size": 64}  # cheap fits for the plumbing tests
HEADS = [True, False]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small networks: one thread is faster, and the machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _random_fit(autoregressive: bool, seed: int = 0, **kw) -> tuple[NeuralMediator, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 3))
    a = rng.integers(0, 12, 200)
    pol = NeuralMediator(SIZES, autoregressive=autoregressive, **{**SMALL, **kw})
    return pol.fit(x, a, rng=rng), x


@pytest.mark.parametrize("autoregressive", HEADS)
def test_protocol_unfitted_is_uniform_and_fit_leaves_the_receiver(autoregressive) -> None:
    pol = NeuralMediator(SIZES, autoregressive=autoregressive, **SMALL)
    assert isinstance(pol, MediatorPolicy)
    assert rg.sampled.NeuralMediator is NeuralMediator  # the lazy export
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(pol.probs(x), np.full((4, 12), 1 / 12))
    np.testing.assert_allclose(pol.log_prob(x, [0, 3, 11, 5]), np.log(1 / 12))
    assert pol.sample(x, rng).shape == (4,) and pol.num_features is None
    # no data, or only weight 0: the unfitted policy
    empty = pol.fit(np.zeros((0, 3)), np.zeros(0, dtype=int), rng=rng)
    np.testing.assert_allclose(empty.probs(x), 1 / 12)
    zero = pol.fit(x, [1, 2, 3, 4], [0, 0, 0, 0], rng=rng)
    assert zero.num_features is None
    # fit returns a new policy; neither the unfitted nor a fitted receiver changes
    fitted = pol.fit(x, [1, 2, 3, 4], rng=rng)
    assert fitted is not pol and fitted.num_features == 3 and pol.num_features is None
    np.testing.assert_allclose(pol.probs(x), 1 / 12)
    before = fitted.probs(x)
    refit = fitted.fit(x, [5, 5, 5, 5], rng=rng)
    np.testing.assert_array_equal(fitted.probs(x), before)
    assert not np.allclose(refit.probs(x), before)
    assert (refit.hidden, refit.epochs, refit.autoregressive) == ((16,), 5, autoregressive)


@pytest.mark.parametrize("autoregressive", HEADS)
def test_probs_log_prob_and_sampling_agree(autoregressive) -> None:
    pol, x = _random_fit(autoregressive, seed=1)
    p = pol.probs(x[:5])
    assert p.shape == (5, 12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    for a in range(12):  # log_prob (m head passes) against the enumerated joint
        np.testing.assert_allclose(pol.log_prob(x[:5], np.full(5, a)), np.log(p[:, a]), atol=1e-5)
    # marginals derived from probs are distributions over each agent's actions
    np.testing.assert_allclose(pol.marginal(x[:5], 1), p.reshape(5, 2, 3, 2).sum((1, 3)))
    # sampling (agent by agent when autoregressive): frequencies within 5 standard errors
    n = 20000
    for row in (0, 1):
        draws = pol.sample(np.repeat(x[row : row + 1], n, axis=0), np.random.default_rng(2))
        freq = np.bincount(draws, minlength=12) / n
        q = p[row]
        assert np.all(np.abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / n) + 1e-12)


def _truth(x: np.ndarray) -> np.ndarray:
    """A correlated joint over 3 agents x 2 actions that depends on x ``[n, 2]``: ``[n, 8]``.

    With probability 0.9 the agents coordinate, on (0,0,0) or (1,1,1) (weight ``1 - s``)
    or on (0,1,0) or (1,0,1) (weight ``s``), ``s = sigmoid(4 x_1)``, picking the first of
    each pair with ``p = sigmoid(3 x_0)``; with probability 0.1 they play uniformly.
    """
    p, s = 1 / (1 + np.exp(-3 * x[:, 0])), 1 / (1 + np.exp(-4 * x[:, 1]))
    out = np.full((x.shape[0], 8), 0.1 / 8)
    out[:, 0] += 0.9 * (1 - s) * p
    out[:, 7] += 0.9 * (1 - s) * (1 - p)
    out[:, 2] += 0.9 * s * p
    out[:, 5] += 0.9 * s * (1 - p)
    return out


def _product_of_marginals(p: np.ndarray) -> np.ndarray:
    q = p.reshape(-1, 2, 2, 2)
    m0, m1, m2 = q.sum((2, 3)), q.sum((1, 3)), q.sum((1, 2))
    return np.einsum("ni,nj,nk->nijk", m0, m1, m2).reshape(-1, 8)


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q).sum(axis=1).mean())


def test_autoregressive_head_learns_a_correlated_joint_that_depends_on_x() -> None:
    """2,000 samples; held-out mean TV to the truth below 0.1, a product of marginals >= 0.25.

    The fit's TV is about 0.06 here (estimation error of 8 probabilities that vary smoothly
    over a 2-d x, from 2,000 samples; it shrinks with n), the best product-of-marginals
    mediator is at 0.3: 0.1 separates "learned the correlation" from "learned the
    marginals" with room for the seed.
    """
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 2))
    truth = _truth(x)
    a = (truth.cumsum(axis=1) < rng.random(2000)[:, None]).sum(axis=1)
    pol = NeuralMediator((2, 2, 2), epochs=30).fit(x, a, rng=rng)
    x_new = rng.normal(size=(1000, 2))
    truth_new, fit = _truth(x_new), pol.probs(x_new)
    assert _tv(fit, truth_new) < 0.1
    assert _tv(_product_of_marginals(truth_new), truth_new) > 0.25
    # the fit itself is correlated: its own marginals' product is far from it
    assert _tv(_product_of_marginals(fit), fit) > 0.2


def test_many_agents_sample_and_log_prob_without_the_joint() -> None:
    """12 agents x 3 actions (A = 531,441): fit, log_prob and sample never enumerate A."""
    sizes = (3,) * 12
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 2))
    parts = rng.integers(0, 3, size=(300, 12))
    parts[:, 1::2] = parts[:, ::2]  # odd agents copy the previous one
    a = np.ravel_multi_index(parts.T, sizes)
    pol = NeuralMediator(sizes, hidden=(32,), epochs=20, lr=1e-2).fit(x, a, rng=rng)
    draws = np.stack(np.unravel_index(pol.sample(x, rng), sizes), axis=1)
    assert np.mean(draws[:, 1::2] == draws[:, ::2]) > 0.8  # it learned the copying
    logp = pol.log_prob(x, a)
    assert logp.shape == (300,) and np.all(np.isfinite(logp))
    assert logp.mean() > 6 * np.log(1 / 3) - 1  # near the 6 free agents' entropy, not 12


def test_weights_are_frequency_weights_and_weight_zero_is_dropping() -> None:
    """On constant features the fit is the weighted empirical joint (repetition = weight)."""
    rng = np.random.default_rng(5)
    n = 600
    x = np.zeros((n, 1))
    a = rng.integers(0, 4, n)
    w = np.where(a == 0, 4.0, 1.0)  # weight 4 on joint action 0
    cfg = {"hidden": (8,), "epochs": 40, "batch_size": 64, "lr": 1e-2}
    pol = NeuralMediator((2, 2), **cfg)
    weighted = pol.fit(x, a, w, rng=np.random.default_rng(6)).probs(x[:1])[0]
    rep = np.repeat(np.arange(n), w.astype(int))
    repeated = pol.fit(x[rep], a[rep], rng=np.random.default_rng(6)).probs(x[:1])[0]
    target = np.bincount(a, weights=w, minlength=4) / w.sum()
    plain = np.bincount(a, minlength=4) / n
    assert 0.5 * np.abs(target - plain).sum() > 0.25  # the weights matter here
    # 0.05: Adam's minibatch noise at lr 1e-2 (0.005-0.02 over seeds), far below the 0.25
    assert 0.5 * np.abs(weighted - target).sum() < 0.05
    assert 0.5 * np.abs(repeated - target).sum() < 0.05
    # samples of weight 0 change nothing: identical to dropping them, for the same rng
    xr = rng.normal(size=(100, 2))
    ar = rng.integers(0, 4, 100)
    wr = rng.integers(0, 2, 100).astype(float)
    small = NeuralMediator((2, 2), **SMALL)
    with_zeros = small.fit(xr, ar, wr, rng=np.random.default_rng(7)).probs(xr)
    keep = wr > 0
    dropped = small.fit(xr[keep], ar[keep], rng=np.random.default_rng(7)).probs(xr)
    np.testing.assert_array_equal(with_zeros, dropped)


@pytest.mark.parametrize("autoregressive", HEADS)
def test_fits_and_samples_are_reproducible_from_the_rng(autoregressive) -> None:
    a1, x = _random_fit(autoregressive, seed=8)
    a2, _ = _random_fit(autoregressive, seed=8)
    np.testing.assert_array_equal(a1.probs(x), a2.probs(x))
    b = NeuralMediator(SIZES, autoregressive=autoregressive, **SMALL).fit(
        x, np.random.default_rng(8).integers(0, 12, 200), rng=np.random.default_rng(9)
    )
    assert not np.allclose(a1.probs(x), b.probs(x))
    s1 = a1.sample(x, np.random.default_rng(10))
    np.testing.assert_array_equal(s1, a1.sample(x, np.random.default_rng(10)))
    assert not np.array_equal(s1, a1.sample(x, np.random.default_rng(11)))


def test_warm_start_starts_from_the_receiver() -> None:
    fitted, x = _random_fit(True, seed=12, warm_start=True)
    a = np.random.default_rng(13).integers(0, 12, 200)
    rng = np.random.default_rng(14)
    # a refit that barely moves stays at the receiver; a cold one starts afresh
    still = copy.copy(fitted)
    still.epochs, still.lr = 1, 1e-8
    np.testing.assert_allclose(still.fit(x, a, rng=rng).probs(x), fitted.probs(x), atol=1e-5)
    cold = NeuralMediator(SIZES, **{**SMALL, "epochs": 1, "lr": 1e-8}).fit(x, a, rng=rng)
    assert not np.allclose(cold.probs(x), fitted.probs(x), atol=1e-3)
    before = fitted.probs(x)
    moved = fitted.fit(x, a, rng=rng)  # the receiver is still unchanged
    np.testing.assert_array_equal(fitted.probs(x), before)
    assert not np.allclose(moved.probs(x), before)
    with pytest.raises(ValidationError, match=r"warm_start: features have d = 2"):
        fitted.fit(x[:, :2], a, rng=rng)


def test_table_on_a_game_is_accepted_by_the_exact_core() -> None:
    rng = np.random.default_rng(15)
    game = random_game(5, (2, 2), 3, rng=rng)
    sim = game.simulator()  # one-hot (h, s) features [H*S]
    states = rng.integers(0, 5, 100)
    x = sim.observe(states, 1)
    pol = NeuralMediator((2, 2), **SMALL).fit(x, rng.integers(0, 4, 100), rng=rng)
    tab = pol.table(game)
    assert tab.shape == (3, 5, 4)
    np.testing.assert_allclose(tab[1], pol.probs(sim.observe(np.arange(5), 1)))
    np.testing.assert_allclose(tab.sum(axis=2), 1.0, atol=1e-12)
    rg.regret(game, tab)


def test_bad_input_names_what_and_where() -> None:
    rng = np.random.default_rng(16)
    for kw, match in [
        ({"hidden": ()}, "hidden"),
        ({"hidden": (8, 0)}, "hidden"),
        ({"epochs": 0}, "epochs must be an int >= 1, got 0"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"lr": 0.0}, "lr must be a finite number > 0, got 0.0"),
        ({"lr": float("nan")}, "lr"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"autoregressive": 1}, "autoregressive must be True or False"),
        ({"device": "no-such-device"}, "device 'no-such-device'"),
    ]:
        with pytest.raises(ValidationError, match=match):
            NeuralMediator(SIZES, **kw)
    with pytest.raises(ValidationError, match="num_actions"):
        NeuralMediator((2, 0))
    pol = NeuralMediator((2, 2), **SMALL)
    x = rng.normal(size=(3, 2))
    with pytest.raises(ValidationError, match=r"actions\[1\] = 4 is outside"):
        pol.fit(x, [0, 4, 1], rng=rng)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValidationError, match=r"features\[2, 1\] is nan"):
        pol.fit(bad, [0, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"weights\[0\] = -1"):
        pol.fit(x, [0, 1, 1], [-1, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"rng must be a numpy\.random\.Generator"):
        pol.fit(x, [0, 1, 1], rng=0)
    fitted = pol.fit(x, [0, 1, 1], rng=rng)
    with pytest.raises(ValidationError, match=r"shape \[n, 2\]"):
        fitted.probs(rng.normal(size=(3, 5)))
    with pytest.raises(ValidationError, match=r"shape \[n, 2\]"):
        fitted.sample(rng.normal(size=(3, 5)), rng)
    with pytest.raises(ValidationError, match=r"actions\[0\] = -1"):
        fitted.log_prob(x, [-1, 0, 0])
    with pytest.raises(ValidationError, match="rng must be"):
        fitted.sample(x, 3)


def test_missing_torch_names_the_extra_in_one_line() -> None:
    code = "import sys; sys.modules['torch'] = None; import regretgap.sampled.neural"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (
        'ImportError: regretgap.sampled.neural needs PyTorch: pip install "regretgap[torch]"'
    )
    assert "During handling" not in proc.stderr  # one error, not a chained traceback
    # the rest of regretgap.sampled imports without torch; the lazy name raises the same
    code = (
        "import sys; sys.modules['torch'] = None; import regretgap.sampled as s\n"
        "try:\n    s.NeuralMediator\nexcept ImportError as e:\n    print(e)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith('pip install "regretgap[torch]"')


def test_the_test_command_pins_the_cpu_wheel_and_the_extra_is_a_range() -> None:
    """README and .ci/run run the same command, installing torch==2.13.0 before [test]."""
    readme = (ROOT / "README.md").read_text()
    command = 'python3 -m pip install "torch==2.13.0" ".[test]" && python3 -m pytest'
    assert f"```bash\n{command}\n```" in readme
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in ln]
    assert ci[-1] == command and shlex.split(ci[-1])
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["torch"] == ["torch>=2.3"] and "torch>=2.3" in extras["test"]


def test_threads_are_set_while_fitting_and_restored() -> None:
    torch = pytest.importorskip("torch")
    seen = []

    class Probe(NeuralMediator):
        def _inputs(self, features):
            seen.append(torch.get_num_threads())
            return super()._inputs(features)

    outer = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        Probe((2, 2), threads=1, epochs=1).probs(np.zeros((2, 3)))
        assert seen == [1] and torch.get_num_threads() == 2
        Probe((2, 2), threads=None, epochs=1).probs(np.zeros((2, 3)))
        assert seen == [1, 2]
    finally:
        torch.set_num_threads(outer)
    with pytest.raises(ValidationError, match="threads"):
        NeuralMediator((2, 2), threads=0)


def test_defaults_messages_and_repr_of_the_neural_mediator() -> None:
    """Mutation-testing survivors: one torch thread by default (with busy cores torch's
    spinning pool made fits 15x slower); a bad ``weight_decay`` is named; the repr says
    which head; agent ``i``'s action embeddings start at row ``sum_{k<i} n_k`` (three
    agents: rows 0, 2, 5), so no two agents' actions share a row."""
    from regretgap.sampled.neural import _Net

    pol = NeuralMediator((2, 3))
    assert pol.threads == 1
    with pytest.raises(ValidationError, match=r"^weight_decay must be a finite number >= 0"):
        NeuralMediator((2, 3), weight_decay=-1.0)
    assert (
        repr(pol) == "NeuralMediator(num_actions=(2, 3), hidden=(64, 64), autoregressive, d=None)"
    )
    flat = NeuralMediator((2, 3), hidden=(8,), autoregressive=False)
    assert repr(flat) == "NeuralMediator(num_actions=(2, 3), hidden=(8,), flat, d=None)"
    net = _Net(4, (2, 3, 2), (8,), True, torch.Generator().manual_seed(0))
    assert net.offsets == [0, 2, 5]
