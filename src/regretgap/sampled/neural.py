"""A neural mediator ``sigma(a | x)`` over features, autoregressive over agents.

:class:`NeuralMediator` is the neural member of the :class:`~regretgap.sampled.MediatorPolicy`
classes: it fits the paper's mediator ``sigma(a | x)`` (a distribution over flat joint
actions ``a``, agent 0 slowest) by weighted maximum likelihood,
``minimise - sum_j w_j log sigma(a_j | x_j) / sum_j w_j``, with Adam on minibatches. By
default it factorises the joint over agents,

    sigma(a | x) = prod_i sigma_i(a_i | x, a_0, ..., a_{i-1}),

with a shared MLP trunk on ``x`` and one head per agent on the trunk's output plus an
embedding of the prefix ``a_<i``, so it can represent any correlated joint (a correlated
equilibrium is not a product of marginals) without a softmax over ``A = prod(n_i)``.

Costs, per feature row, with ``m`` agents, trunk width ``k`` and ``n_max = max(n_i)``:

- ``sample`` and ``log_prob``: one trunk pass plus ``m`` head passes, ``O(m k (k + n_max))``,
  linear in the number of agents (``sample`` draws agent by agent, inverting each
  conditional's CDF with uniforms from the numpy ``rng``; ``benchmarks/neural_mediator.py``
  times it against the flat head).
- ``probs`` (hence ``table``, ``marginal`` and ``conditional``): enumerates the prefix tree,
  ``O(A k^2)``: exponential in ``m``, for small games and the exact core.

``autoregressive=False`` gives a flat softmax head over the ``A`` joint actions instead, for
small joint spaces. Needs PyTorch: ``pip install "regretgap[torch]"``.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Callable, Sequence
from math import prod
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'regretgap.sampled.neural needs PyTorch: pip install "regretgap[torch]"'
    ) from None

from regretgap._checks import check_rng
from regretgap.data import _inverse_cdf
from regretgap.errors import ValidationError
from regretgap.sampled.policies import (
    JointPolicy,
    check_actions,
    check_features,
    check_num_actions,
    check_samples,
)

__all__ = ["NeuralMediator"]

#: Prefix-tree entries ``rows * A`` expanded at once by :meth:`NeuralMediator.probs`.
PROBS_CHUNK = 1 << 16


def _uniform(shape: Sequence[int], bound: float, g: torch.Generator) -> nn.Parameter:
    """A parameter drawn from ``U(-bound, bound)`` with the generator ``g`` only."""
    return nn.Parameter(
        torch.rand(tuple(shape), generator=g, dtype=torch.float32) * 2 * bound - bound
    )


class _Net(nn.Module):
    """Trunk ``x [n, d] -> h [n, k]`` and either the agent heads or one flat head.

    Parameters are drawn from the generator ``g`` (PyTorch's default ``U(+-1/sqrt(fan_in))``
    for the linear layers), never from the global torch RNG.
    """

    def __init__(
        self,
        d: int,
        num_actions: tuple[int, ...],
        hidden: tuple[int, ...],
        autoregressive: bool,
        g: torch.Generator,
    ) -> None:
        super().__init__()
        self.num_actions = num_actions
        self.autoregressive = autoregressive
        sizes = (d, *hidden)
        self.trunk_w = nn.ParameterList(
            _uniform((fan_out, fan_in), fan_in**-0.5, g)
            for fan_in, fan_out in itertools.pairwise(sizes)
        )
        self.trunk_b = nn.ParameterList(
            _uniform((fan_out,), fan_in**-0.5, g) for fan_in, fan_out in itertools.pairwise(sizes)
        )
        k = hidden[-1]
        if not autoregressive:
            num_joint = prod(num_actions)
            self.out_w = _uniform((k, num_joint), k**-0.5, g)
            self.out_b = _uniform((num_joint,), k**-0.5, g)
            return
        m, n_max = len(num_actions), max(num_actions)
        # agent i's action a_i adds the row embed[offset_i + a_i] to every later agent's input
        self.offsets = [0, *np.cumsum(num_actions[:-1]).tolist()]
        self.embed = _uniform((sum(num_actions), k), 1.0, g)
        # the heads, stacked [m, ...] and padded to n_max actions (padding masked to -inf)
        self.w1 = _uniform((m, k, k), k**-0.5, g)
        self.b1 = _uniform((m, k), k**-0.5, g)
        self.w2 = _uniform((m, k, n_max), k**-0.5, g)
        self.b2 = _uniform((m, n_max), k**-0.5, g)
        pad = torch.arange(n_max)[None, :] >= torch.tensor(num_actions)[:, None]
        self.register_buffer("pad", pad, persistent=False)
        # before[i, k] = 1 for k < i: the prefix sum as one matmul (cumsum is slow on CPU)
        before = torch.tril(torch.ones(m, m), diagonal=-1)
        self.register_buffer("before", before, persistent=False)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """``h = relu(W_L ... relu(W_1 x + b_1) ... + b_L)``, ``[n, k]``."""
        for w, b in zip(self.trunk_w, self.trunk_b, strict=True):
            x = torch.relu(x @ w.T + b)
        return x

    def head(self, z: torch.Tensor, i: int) -> torch.Tensor:
        """Agent ``i``'s log-conditional ``log sigma_i(. | x, a_<i)`` from ``z [..., k]``."""
        hid = torch.relu(z @ self.w1[i] + self.b1[i])
        logits = hid @ self.w2[i, :, : self.num_actions[i]] + self.b2[i, : self.num_actions[i]]
        return torch.log_softmax(logits, dim=-1)

    def log_prob(self, x: torch.Tensor, a: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
        """``log sigma(a | x)`` ``[n]`` from the joint ``a [n]`` and its parts ``[n, m]``."""
        h = self.trunk(x)
        if not self.autoregressive:
            logp = torch.log_softmax(h @ self.out_w + self.out_b, dim=-1)
            return logp.gather(1, a[:, None])[:, 0]
        # all agents at once: z_i = h + sum_{k<i} embed[a_k] (exclusive cumulative sum)
        e = self.embed[parts + torch.tensor(self.offsets, device=parts.device)]  # [n, m, k]
        z = h + torch.matmul(self.before, e).transpose(0, 1)  # [m, n, k]
        hid = torch.relu(torch.baddbmm(self.b1[:, None, :], z, self.w1))
        logits = torch.baddbmm(self.b2[:, None, :], hid, self.w2)  # [m, n, n_max]
        logp = torch.log_softmax(logits.masked_fill(self.pad[:, None, :], -torch.inf), dim=-1)
        return logp.gather(2, parts.T[:, :, None])[:, :, 0].sum(dim=0)

    def log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``log sigma(. | x)`` over all ``A`` joint actions, ``[n, A]`` (agent 0 slowest)."""
        h = self.trunk(x)
        if not self.autoregressive:
            return torch.log_softmax(h @ self.out_w + self.out_b, dim=-1)
        n = h.shape[0]
        z = h[:, None, :]  # [n, P, k] over the P prefixes so far
        logp = torch.zeros((n, 1), dtype=h.dtype, device=h.device)
        for i, n_i in enumerate(self.num_actions):
            step = self.head(z, i)  # [n, P, n_i]
            logp = (logp[:, :, None] + step).reshape(n, -1)
            if i + 1 < len(self.num_actions):
                emb = self.embed[self.offsets[i] : self.offsets[i] + n_i]
                z = (z[:, :, None, :] + emb).reshape(n, -1, z.shape[-1])
        return logp


def _with_threads(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` with torch's intra-op pool at ``self.threads`` (restored after)."""

    @functools.wraps(method)
    def wrapper(self: NeuralMediator, *args: Any, **kwargs: Any) -> Any:
        if self.threads is None:
            return method(self, *args, **kwargs)
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return method(self, *args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper


def _check_int(value: Any, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValidationError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _check_float(value: Any, name: str, *, positive: bool) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value < 0 or (positive and value == 0):
        want = "> 0" if positive else ">= 0"
        raise ValidationError(f"{name} must be a finite number {want}, got {value!r}")
    return float(value)


class NeuralMediator(JointPolicy):
    """``sigma(a | x)`` by an MLP, autoregressive over agents, fitted by weighted log-loss.

    ``fit`` minimises ``- sum_j w_j log sigma(a_j | x_j) / sum_j w_j`` (plus Adam's L2
    ``weight_decay``) over ``epochs`` passes of shuffled minibatches, after standardising
    the features with their weighted mean and standard deviation (kept with the fit and
    applied by every later call). All its randomness (the initial parameters, the
    minibatch order) comes from the numpy ``rng`` it is given, so a fit is a function of
    the data and the rng's state. Samples with weight 0 are dropped before anything
    random, so they change nothing. It returns a new policy; the receiver is unchanged.

    Args:
        num_actions: ``(n_0, ..., n_{m-1})``.
        hidden: trunk widths; the last, ``k``, is also the width of each agent's head
            and of the prefix embedding. Default ``(64, 64)``: enough for the smooth,
            low-dimensional mediators of the built-in games, small enough that a fit on
            ``10^4`` samples takes seconds on one CPU core.
        autoregressive: ``True`` (default): ``sigma = prod_i sigma_i(a_i | x, a_<i)``,
            linear in the number of agents; ``False``: one softmax over ``A`` joint actions.
        epochs: passes over the data (default 50: with the defaults below, a few
            thousand samples reach their held-out optimum in the tests' problems).
        batch_size: samples per Adam step (default 256).
        lr: Adam's learning rate (default ``3e-3``: the usual ``1e-3`` converges too
            slowly for 50 epochs on small data sets).
        weight_decay: Adam's L2 penalty (default 0: plain maximum likelihood).
        warm_start: when ``True``, ``fit`` starts from the receiver's parameters and
            feature standardisation (if the receiver is fitted, on the same ``d``)
            instead of fresh ones: the iterates of a learner that refits after each
            round (DAgger, BLADES) then move gradually. Adam's moments restart. A fit on
            no data (or all weights 0) still returns the unfitted policy.
        device: where torch computes (``"cpu"`` by default; e.g. ``"cuda"``).
        threads: torch intra-op threads while fitting and predicting (restored afterwards;
            default 1: a network this small gains nothing from threads, and with the cores
            busy elsewhere, e.g. numba kernels or other workers, torch's spinning threads
            measured 10-30x slower); ``None`` leaves torch's setting alone.

    Attributes (after fitting):
        num_features: ``d``, the width of the features it was fitted on (``None`` unfitted).
    """

    def __init__(
        self,
        num_actions: Any,
        *,
        hidden: Sequence[int] = (64, 64),
        autoregressive: bool = True,
        epochs: int = 50,
        batch_size: int = 256,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        warm_start: bool = False,
        device: Any = "cpu",
        threads: int | None = 1,
    ) -> None:
        self.num_actions = check_num_actions(num_actions)
        try:
            widths = tuple(hidden)
        except TypeError:
            raise ValidationError(
                f"hidden must be a tuple of positive ints, got {hidden!r}"
            ) from None
        if not widths or any(
            isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in widths
        ):
            raise ValidationError(
                f"hidden must be a non-empty tuple of positive ints, got {hidden!r}"
            )
        self.hidden = tuple(int(k) for k in widths)
        for flag, name in ((autoregressive, "autoregressive"), (warm_start, "warm_start")):
            if not isinstance(flag, bool):
                raise ValidationError(f"{name} must be True or False, got {flag!r}")
        self.autoregressive = autoregressive
        self.warm_start = warm_start
        self.epochs = _check_int(epochs, "epochs")
        self.batch_size = _check_int(batch_size, "batch_size")
        self.lr = _check_float(lr, "lr", positive=True)
        self.weight_decay = _check_float(weight_decay, "weight_decay", positive=False)
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValidationError(f"device {device!r} is not a torch device: {exc}") from None
        self.threads = None if threads is None else _check_int(threads, "threads")
        self._net: _Net | None = None
        self._shift = self._scale = None  # feature standardisation, torch [d]

    def __repr__(self) -> str:
        head = "autoregressive" if self.autoregressive else "flat"
        return (
            f"NeuralMediator(num_actions={self.num_actions}, hidden={self.hidden}, {head}, "
            f"d={self.num_features})"
        )

    @property
    def num_features(self) -> int | None:
        """``d`` of the fitted features, ``None`` while unfitted."""
        return None if self._shift is None else int(self._shift.shape[0])

    # -----------------------------------------------------------------------------------
    # fitting

    @_with_threads
    def fit(
        self, features: Any, actions: Any, weights: Any = None, *, rng: np.random.Generator
    ) -> NeuralMediator:
        """A new policy minimising ``- sum_j w_j log sigma(a_j | x_j) / sum_j w_j`` by Adam.

        Args:
            features: ``x [n, d]``, finite.
            actions: ``a [n]`` flat joint actions in ``0..A-1``.
            weights: ``w [n]`` finite and ``>= 0`` (``None``: all ones).
            rng: the only source of randomness (initial parameters, minibatch order).

        Returns:
            A fitted :class:`NeuralMediator`, or the unfitted (uniform) one when no sample
            has positive weight.

        Raises:
            ValidationError: bad samples, a non-Generator ``rng``, or ``warm_start`` from a
                receiver fitted on another ``d``.
        """
        check_rng(rng)
        x, a, w = check_samples(features, actions, weights, self.num_joint_actions)
        keep = w > 0
        x, a, w = x[keep], a[keep], w[keep]
        new = copy.copy(self)
        new._net, new._shift, new._scale = None, None, None
        if x.shape[0] == 0:
            return new
        n, d = x.shape
        g = torch.Generator().manual_seed(int(rng.integers(2**63)))
        if self.warm_start and self._net is not None:
            if self.num_features != d:
                raise ValidationError(
                    f"warm_start: features have d = {d}, the receiver was fitted on "
                    f"d = {self.num_features}"
                )
            net, shift, scale = copy.deepcopy(self._net), self._shift, self._scale
        else:
            net = _Net(d, self.num_actions, self.hidden, self.autoregressive, g).to(self.device)
            mean = np.average(x, axis=0, weights=w)
            std = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
            # a constant feature carries nothing: centre it, leave its scale
            std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
            shift, scale = (torch.as_tensor(v, dtype=torch.float32) for v in (mean, std))
        xt = ((torch.as_tensor(x, dtype=torch.float32) - shift) / scale).to(self.device)
        at, parts = self._joint(a)
        # per-sample weights over their mean: a minibatch's sum / its size is then an
        # unbiased estimate of the normalised objective, whatever the weights' scale
        wt = torch.as_tensor(w / w.mean(), dtype=torch.float32, device=self.device)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        net.train()
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=g).to(self.device)
            for lo in range(0, n, self.batch_size):
                idx = order[lo : lo + self.batch_size]
                loss = -(wt[idx] * net.log_prob(xt[idx], at[idx], parts[idx])).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval()
        new._net, new._shift, new._scale = net, shift, scale
        return new

    # -----------------------------------------------------------------------------------
    # evaluation

    def _inputs(self, features: Any) -> np.ndarray | torch.Tensor:
        """Checked features: numpy ``[n, d]`` while unfitted, else standardised torch."""
        x = check_features(features, self.num_features)
        if self._net is None:
            return x
        xt = (torch.as_tensor(x, dtype=torch.float32) - self._shift) / self._scale
        return xt.to(self.device)

    def _joint(self, a: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat joint actions ``[n]`` and their per-agent parts ``[n, m]``, as torch."""
        parts = np.stack(np.unravel_index(a, self.num_actions), axis=1)
        return torch.as_tensor(a, device=self.device), torch.as_tensor(parts, device=self.device)

    @_with_threads
    def probs(self, features: Any) -> np.ndarray:
        """``sigma(. | x_j)`` over the ``A`` joint actions, ``[n, A]`` (agent 0 slowest).

        With the autoregressive head this enumerates the prefix tree: ``O(A)`` per row,
        exponential in the number of agents (for ``table`` and small games).
        """
        xt = self._inputs(features)
        num_joint = self.num_joint_actions
        if self._net is None:
            return np.full((xt.shape[0], num_joint), 1.0 / num_joint)
        out = np.empty((xt.shape[0], num_joint))
        rows = max(1, PROBS_CHUNK // num_joint)
        with torch.no_grad():
            for lo in range(0, xt.shape[0], rows):
                logp = self._net.log_probs(xt[lo : lo + rows]).double().cpu().numpy()
                p = np.exp(logp - logp.max(axis=1, keepdims=True))
                out[lo : lo + rows] = p / p.sum(axis=1, keepdims=True)
        return out

    @_with_threads
    def log_prob(self, features: Any, actions: Any) -> np.ndarray:
        """``log sigma(a_j | x_j)``, ``[n]``: ``m`` head passes, no ``[n, A]`` joint."""
        xt = self._inputs(features)
        a = check_actions(actions, xt.shape[0], self.num_joint_actions)
        if self._net is None:
            return np.full(a.shape, -np.log(self.num_joint_actions))
        at, parts = self._joint(a)
        with torch.no_grad():
            return self._net.log_prob(xt, at, parts).double().cpu().numpy()

    @_with_threads
    def sample(self, features: Any, rng: np.random.Generator) -> np.ndarray:
        """One joint recommendation ``a ~ sigma(. | x_j)`` per row, ``[n]`` int64.

        Autoregressive: agent by agent, ``a_i ~ sigma_i(. | x, a_<i)`` by inverting its CDF
        at ``u [n, m] = rng.random((n, m))`` (``O(m)`` per row); flat: one draw from ``[n, A]``.
        """
        check_rng(rng)
        if self._net is None or not self.autoregressive:
            return super().sample(features, rng)
        xt = self._inputs(features)
        n, net = xt.shape[0], self._net
        u = rng.random((n, self.num_agents))
        parts = np.empty((n, self.num_agents), dtype=np.int64)
        with torch.no_grad():
            z = net.trunk(xt)
            for i in range(self.num_agents):
                p = torch.exp(net.head(z, i)).double().cpu().numpy()
                parts[:, i] = _inverse_cdf(p, u[:, i])
                if i + 1 < self.num_agents:
                    z = (
                        z
                        + net.embed[net.offsets[i] + torch.as_tensor(parts[:, i], device=z.device)]
                    )
        return np.ravel_multi_index(parts.T, self.num_actions).astype(np.int64)
