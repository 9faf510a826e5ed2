"""PettingZoo out and in: a mediated game as a ``ParallelEnv``, and any
discrete-action ``ParallelEnv`` as a :class:`regretgap.Simulator`.

:class:`MediatorEnv` plays a Markov game under a mediator ``sigma[h, s, a]`` (paper
section 3): each step it draws one joint recommendation ``a ~ sigma_h(. | s)`` and shows
agent ``i`` only ``(h, s, a_i)``; the agents act, and the played joint action moves the
state. Obedient agents earn ``J_i(pi_sigma)``, an agent playing ``phi[h, s, a_i]`` earns
``J_i(pi_{sigma, phi_i})``. :func:`as_simulator` wraps an environment as a reward-free
simulator whose states are ``(seed, action history)`` records replayed on demand.

Scoring a mediator on your own environment (evaluation only, never for learners):
:func:`env_utilities` reads the environment's own rewards as a
:class:`~regretgap.utilities.Utilities`, so :func:`regretgap.sampled.estimate_gaps` scores
a mediator on it by Monte Carlo; where the reachable states can be enumerated,
:func:`tabulate` turns the environment into an exact layered
:class:`~regretgap.MarkovGame` (with its rewards) on which every exact function runs.

Needs the optional extra: ``pip install "regretgap[pettingzoo]"``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

try:
    import gymnasium
    from gymnasium.utils.env_checker import data_equivalence
    from pettingzoo import ParallelEnv
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'regretgap.pettingzoo needs PettingZoo and Gymnasium: pip install "regretgap[pettingzoo]"'
    ) from None

from regretgap import _kernels
from regretgap._checks import check_count
from regretgap._repr import short_repr
from regretgap.data import _inverse_cdf
from regretgap.deviations import as_deviation
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame
from regretgap.policies import _check_agent, as_policy
from regretgap.simulator import (
    check_joint_actions,
    check_rng,
    check_step,
)

__all__ = [
    "EnvSimulator",
    "EnvState",
    "EnvUtilities",
    "MediatorEnv",
    "Tabulation",
    "as_simulator",
    "env_utilities",
    "tabulate",
]


def agent_name(i: int) -> str:
    """PettingZoo name of agent ``i`` of the game: ``"agent_{i}"``."""
    return f"agent_{i}"


class MediatorEnv(ParallelEnv):
    """A mediated Markov game as a PettingZoo ``ParallelEnv`` (for strategic agents).

    Each step ``h`` the mediator draws one joint recommendation ``a ~ sigma_h(. | s)``.
    Exposed agent ``i`` (named ``"agent_{i}"``) observes ``[h, s, a_i]`` only, an int64
    array in ``MultiDiscrete([H + 1, S, n_i])``, never the others' recommendations, and
    answers with an action in ``Discrete(n_i)``. Scripted agents (``deviators``) play
    ``phi_i[h, s, a_i]``. The played joint action earns each exposed agent its reward
    ``r_i(s, b)`` and moves the state by ``T``. After step ``H - 1`` every agent is
    terminated (the game ends; nothing follows to bootstrap from) and observes
    ``[H, s_H, 0]``.

    This environment is for evaluating or training *strategic agents*, so it reads the
    game's rewards; a mediator learner should receive ``game.simulator()`` instead.

    Args:
        game: the Markov game.
        sigma: mediator policy ``[H, S, A]`` or stationary ``[S, A]``.
        deviators: optional ``{i: phi_i}``: agents scripted by deviation tables
            ``[H, S, n_i]`` (or ``[S, n_i]``, ``[n_i]``); they are not PettingZoo agents
            and play ``phi_i[h, s, a_i]`` on their recommendation ``a_i``. An identity
            table scripts an obedient agent. At least one agent must stay exposed. With
            all agents exposed and obedient, episode returns have mean ``values(game,
            sigma)``; with ``{j: phi}`` they have mean ``values(game, apply_deviation(game,
            sigma, j, phi))`` (several scripted agents compose coordinate-wise).
        rng: the generator of every draw (initial state, recommendations, successors).
            ``None`` takes a fresh ``numpy.random.default_rng()``; ``reset(seed=k)``
            replaces it with ``default_rng(k)``, as PettingZoo's seeding contract asks.

    Raises:
        ValidationError: a malformed game, policy or deviation table, a deviator index
            outside ``0..m-1``, or no exposed agent left.
    """

    metadata: dict[str, Any] = {"name": "regretgap_mediator_v0", "render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        game: MarkovGame,
        sigma: Any,
        *,
        deviators: Mapping[int, Any] | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(game, MarkovGame):
            raise ValidationError(f"game must be a MarkovGame, got {type(game).__name__}")
        pol = np.array(as_policy(game, sigma))  # own, writable-then-frozen copy
        pol.flags.writeable = False
        scripted: dict[int, np.ndarray] = {}
        for i, phi in dict(deviators or {}).items():
            scripted[_check_agent(game, i)] = as_deviation(game, i, phi)
        exposed = [i for i in range(game.num_agents) if i not in scripted]
        if not exposed:
            raise ValidationError(
                f"deviators script all {game.num_agents} agents: leave at least one exposed"
            )
        self.game = game
        self.sigma = pol
        self.deviators = scripted
        self.exposed = tuple(exposed)
        self.possible_agents = [agent_name(i) for i in exposed]
        self.agents: list[str] = []
        self.render_mode = None
        self._index = {agent_name(i): i for i in exposed}
        h_count, s_count = game.horizon, game.num_states
        self._observation_spaces = {
            agent_name(i): gymnasium.spaces.MultiDiscrete(
                [h_count + 1, s_count, game.num_actions[i]], dtype=np.int64
            )
            for i in exposed
        }
        self._action_spaces = {
            agent_name(i): gymnasium.spaces.Discrete(game.num_actions[i]) for i in exposed
        }
        self._rng = check_rng(rng) if rng is not None else np.random.default_rng()
        self._h = 0
        self._s = 0
        self._rec = 0  # the current joint recommendation (flat index)

    # spaces: the same object every call (parallel_api_test checks identity)
    def observation_space(self, agent: str) -> gymnasium.spaces.MultiDiscrete:
        """``MultiDiscrete([H + 1, S, n_i])`` of ``[h, s, a_i]`` (the cached object)."""
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        """``Discrete(n_i)`` (the cached object)."""
        return self._action_spaces[agent]

    @property
    def horizon(self) -> int:
        """``H``, the number of steps of an episode."""
        return self.game.horizon

    def __deepcopy__(self, memo: dict) -> MediatorEnv:
        # the game, sigma and tables are read-only: share them, copy the rest (rng, state)
        new = copy.copy(self)
        memo[id(self)] = new
        shared = ("game", "sigma", "deviators")
        for k, v in self.__dict__.items():
            if k not in shared:
                setattr(new, k, copy.deepcopy(v, memo))
        return new

    def _draw_recommendation(self) -> None:
        row = self.sigma[self._h, self._s][None]
        self._rec = int(_inverse_cdf(row, self._rng.random(1))[0])

    def _observations(self) -> dict[str, np.ndarray]:
        done = self._h >= self.game.horizon
        parts = self.game.action_table[self._rec]
        return {
            agent: np.array([self._h, self._s, 0 if done else parts[i]], dtype=np.int64)
            for agent, i in self._index.items()
        }

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Start an episode: ``s_0 ~ rho0`` and the first recommendation.

        Returns:
            ``(observations, infos)`` keyed by agent; infos are empty dicts.
        """
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self._h = 0
        self._s = int(_inverse_cdf(self.game.initial[None], self._rng.random(1))[0])
        self._draw_recommendation()
        return self._observations(), {agent: {} for agent in self.agents}

    def _check_actions(self, actions: Any) -> dict[int, int]:
        if not self.agents:
            raise ValidationError("the episode is over (or never started): call reset() first")
        if not isinstance(actions, Mapping) or set(actions) != set(self.agents):
            got = sorted(actions) if isinstance(actions, Mapping) else type(actions).__name__
            raise ValidationError(f"actions must be a dict keyed by {self.agents}, got {got}")
        out = {}
        for agent, b in actions.items():
            i = self._index[agent]
            arr = np.asarray(b)
            n = self.game.num_actions[i]
            if arr.shape != () or not np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
                raise ValidationError(f"{agent}'s action must be an integer, got {b!r}")
            if not 0 <= int(arr) < n:
                raise ValidationError(f"{agent}'s action {int(arr)} is outside 0..{n - 1}")
            out[i] = int(arr)
        return out

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict],
    ]:
        """Play one step: ``b_i`` of exposed agents, ``phi_i(h, s, a_i)`` of scripted ones.

        Args:
            actions: ``{agent: b_i}`` for every live agent, ints in ``0..n_i-1``.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)`` keyed by agent;
            ``rewards[agent_i] = r_i(s_h, b)``; all agents terminate after step ``H - 1``.

        Raises:
            ValidationError: missing or extra agents, non-integer or out-of-range actions,
                or a step outside an episode.
        """
        chosen = self._check_actions(actions)
        game, h, s = self.game, self._h, self._s
        rec = game.action_table[self._rec]
        played = [
            chosen[i] if i in chosen else int(self.deviators[i][h, s, rec[i]])
            for i in range(game.num_agents)
        ]
        b = int(np.ravel_multi_index(played, game.num_actions))
        rewards = {agent: float(game.rewards[i, s, b]) for agent, i in self._index.items()}
        t = game.transitions
        row = np.array([s * game.num_joint_actions + b], dtype=np.int64)
        self._s = int(
            _kernels.sample_successors(t.indptr, t.indices, t.data, row, self._rng.random(1))[0]
        )
        self._h = h + 1
        done = self._h >= game.horizon
        if not done:
            self._draw_recommendation()
        obs = self._observations()
        terminations = dict.fromkeys(self.agents, done)
        truncations = dict.fromkeys(self.agents, False)
        infos: dict[str, dict] = {agent: {} for agent in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The global state ``[h, s]`` (without recommendations)."""
        return np.array([self._h, self._s], dtype=np.int64)

    def render(self) -> None:
        """No rendering."""
        return None

    def close(self) -> None:
        """Nothing to release."""
        return None


# ---------------------------------------------------------------------------------------
# any ParallelEnv with discrete actions as a Simulator


@dataclass(eq=False)
class EnvState:
    """One state of an :class:`EnvSimulator`: the reset seed and the actions taken since.

    Attributes:
        seed: the ``reset(seed=...)`` the episode started from.
        actions: the flat joint actions taken since reset (one per :meth:`step`, including
            steps after the environment ended, which leave it unchanged).
        observations: the environment's observation dict at this state (do not mutate).
        done: True once the environment has no live agent (the state is then absorbing).
    """

    seed: int
    actions: tuple[int, ...]
    observations: dict[str, Any]
    done: bool
    # the live environment sitting at this state, handed to the first successor computed
    # from it; later steps from this state replay (seed, actions) in a fresh copy
    _env: Any = field(default=None, repr=False)
    _owner: int = field(default=0, repr=False)


class EnvSimulator:
    """A PettingZoo ``ParallelEnv`` with ``Discrete`` actions as a :class:`regretgap.Simulator`.

    States are :class:`EnvState` records ``(seed, joint actions so far)``, batched as
    object arrays ``[n]``; an environment is rebuilt from one by ``reset(seed)`` and
    replaying its actions. Why replay rather than deep copies of live environments:

    - it needs only PettingZoo's seeding contract (``reset(seed)`` fixes the episode's
      randomness, checked by ``pettingzoo.test.parallel_seed_test``), whereas deep copies
      fail on environments holding renderers, sockets or C handles;
    - states stay small, picklable and comparable, so datasets can store them;
    - a deep copy duplicates the environment's internal generator anyway, so neither
      design gives fresh randomness when branching twice from one state.

    A rollout costs one environment step per step: the live environment travels with the
    newest state; only branching (stepping one state twice) pays an ``O(h)`` replay. A
    replay whose observations differ from the recorded ones raises ValidationError (the
    environment is not deterministic given its seed).

    Randomness: :meth:`reset` draws each episode's seed from ``rng``; the environment's
    own transitions then follow from that seed, so :meth:`step` does not consume ``rng``
    and stepping the same state with the same action twice gives the same successor.
    The environment's rewards are dropped: the simulator exposes none.

    Joint actions are flat indices over ``num_actions = (n_0, ...)`` in
    ``possible_agents`` order; actions of agents no longer live are ignored.
    """

    def __init__(
        self,
        make_env: Callable[[], ParallelEnv],
        horizon: int,
        features: Callable[[dict[str, Any]], np.ndarray] | None = None,
    ) -> None:
        probe = make_env()
        agents = list(probe.possible_agents)
        if not agents:
            raise ValidationError("the environment has no possible_agents")
        sizes = []
        for agent in agents:
            space = probe.action_space(agent)
            if not isinstance(space, gymnasium.spaces.Discrete):
                raise ValidationError(
                    f"{agent}'s action space is {space}: as_simulator needs Discrete actions"
                )
            sizes.append(int(space.n))
        check_count("horizon", horizon)
        self._make_env = make_env
        self.possible_agents = agents
        self._starts = [int(probe.action_space(a).start) for a in agents]
        self._obs_spaces = {a: probe.observation_space(a) for a in agents}
        self._num_actions = tuple(sizes)
        self._horizon = int(horizon)
        self._features = features
        self.replays = 0  # how many times a state had to be rebuilt (branching)
        probe.close()

    @property
    def num_actions(self) -> tuple[int, ...]:
        """Per-agent action counts in ``possible_agents`` order."""
        return self._num_actions

    @property
    def horizon(self) -> int:
        """``H``, as given."""
        return self._horizon

    def __repr__(self) -> str:
        return (
            f"EnvSimulator(agents={self.possible_agents}, num_actions={self.num_actions}, "
            f"H={self.horizon})"
        )

    def _new_state(self, seed: int, actions: tuple[int, ...], env: Any, obs: dict) -> EnvState:
        return EnvState(
            seed=seed,
            actions=actions,
            observations=copy.deepcopy(obs),  # environments may reuse observation buffers
            done=not env.agents,
            _env=env,
            _owner=id(self),
        )

    def reset(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` fresh episodes, seeds drawn from ``rng``; an object array ``[n]`` of states."""
        check_rng(rng)
        n = check_count("n", n)
        seeds = rng.integers(0, 2**31 - 1, size=n)
        out = np.empty(n, dtype=object)
        for k, seed in enumerate(seeds):
            env = self._make_env()
            obs, _ = env.reset(seed=int(seed))
            out[k] = self._new_state(int(seed), (), env, obs)
        return out

    def _check_states(self, states: Any) -> np.ndarray:
        arr = np.asarray(states, dtype=object)
        if arr.ndim != 1 or arr.shape[0] < 1:
            raise ValidationError(f"states must be a non-empty [n] batch, got shape {arr.shape}")
        for k, st in enumerate(arr):
            if not isinstance(st, EnvState) or st._owner != id(self):
                raise ValidationError(f"states[{k}] is not a state made by this simulator")
        return arr

    def _play(self, env: Any, a: int) -> dict:
        return self._play_with_rewards(env, a)[0]

    def _play_with_rewards(self, env: Any, a: int) -> tuple[dict, np.ndarray]:
        """Step ``env`` with flat joint action ``a``: ``(observations, rewards [m])``, an
        absent agent's reward 0 (the rewards are for evaluation only)."""
        parts = np.unravel_index(a, self._num_actions)
        live = set(env.agents)
        actions = {
            agent: self._starts[j] + int(parts[j])
            for j, agent in enumerate(self.possible_agents)
            if agent in live
        }
        obs, rewards, *_ = env.step(actions)
        r = np.array([float(rewards.get(agent, 0.0)) for agent in self.possible_agents])
        return obs, r

    def _replay(self, st: EnvState) -> Any:
        self.replays += 1
        env = self._make_env()
        obs, _ = env.reset(seed=st.seed)
        for a in st.actions:
            if not env.agents:
                break
            obs = self._play(env, a)
        if not data_equivalence(obs, st.observations):
            raise ValidationError(
                f"replaying seed {st.seed} and {len(st.actions)} actions gave other "
                "observations: the environment is not deterministic given reset(seed)"
            )
        return env

    def step(self, states: Any, joint_actions: Any, rng: np.random.Generator) -> np.ndarray:
        """Successor states ``[n]`` (object array); the input states are left unchanged.

        ``rng`` is checked but not consumed (the episode's seed fixes the environment's
        randomness, see the class docstring).
        """
        check_rng(rng)
        arr = self._check_states(states)
        a = check_joint_actions(joint_actions, arr.shape[0], int(np.prod(self._num_actions)))
        out = np.empty(arr.shape[0], dtype=object)
        for k, st in enumerate(arr):
            actions = (*st.actions, int(a[k]))
            if st.done:
                out[k] = EnvState(st.seed, actions, st.observations, True, None, id(self))
                continue
            env = st._env if st._env is not None else self._replay(st)
            st._env = None  # handed over: a second step from st replays
            obs = self._play(env, int(a[k]))
            out[k] = self._new_state(st.seed, actions, env, obs)
        return out

    def observe(self, states: Any, h: int) -> np.ndarray:
        """Features ``[n, d]`` float64 of the states at step ``h``.

        Default: each possible agent's observation flattened by
        ``gymnasium.spaces.flatten`` (one-hot blocks for discrete spaces), concatenated in
        ``possible_agents`` order, zeros for an agent absent from the observation dict.

        Raises:
            ValidationError: ``h`` outside ``0..H-1`` or different from the number of
                steps a state has taken, or features of the wrong shape or non-finite.
        """
        h = check_step(h, self._horizon)
        arr = self._check_states(states)
        rows = []
        for k, st in enumerate(arr):
            if len(st.actions) != h:
                raise ValidationError(
                    f"states[{k}] has taken {len(st.actions)} steps, so it is not at h = {h}"
                )
            rows.append(self._featurise(st.observations))
        widths = sorted({row.size for row in rows})
        if len(widths) != 1 or widths[0] < 1:
            raise ValidationError(
                f"features must give every state a row of one width d >= 1, got widths {widths}"
            )
        x = np.stack(rows)
        if not np.all(np.isfinite(x)):
            k, j = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
            raise ValidationError(
                f"features must be finite [n, d] rows: states[{k}] gives feature {j} = {x[k, j]}"
            )
        return x

    def _featurise(self, obs: dict[str, Any]) -> np.ndarray:
        if self._features is not None:
            return np.asarray(self._features(obs), dtype=np.float64).ravel()
        parts = []
        for agent in self.possible_agents:
            space = self._obs_spaces[agent]
            if agent in obs:
                parts.append(np.asarray(gymnasium.spaces.flatten(space, obs[agent]), np.float64))
            else:
                parts.append(np.zeros(gymnasium.spaces.flatdim(space)))
        return np.concatenate(parts)


def as_simulator(
    env: ParallelEnv | Callable[[], ParallelEnv],
    *,
    horizon: int | None = None,
    features: Callable[[dict[str, Any]], np.ndarray] | None = None,
) -> EnvSimulator:
    """A discrete-action PettingZoo ``ParallelEnv`` as a reward-free :class:`Simulator`.

    Args:
        env: an environment (deep-copied to make more; it is never stepped itself) or a
            zero-argument factory of fresh environments (for ones that cannot be copied).
        horizon: ``H``; default ``env.horizon`` when the environment has one (as
            :class:`MediatorEnv` does). Episodes ending earlier become absorbing.
        features: optional map from an observation dict to a feature vector ``[d]``;
            default: flattened observations of every possible agent (see
            :meth:`EnvSimulator.observe`).

    Returns:
        An :class:`EnvSimulator` (states are ``(seed, actions)`` records, see there why).

    Raises:
        ValidationError: a non-Discrete action space, no horizon, or neither an
            environment nor a factory.
    """
    if isinstance(env, ParallelEnv):
        template = env

        def make_env() -> ParallelEnv:
            return copy.deepcopy(template)

    elif callable(env):
        make_env = env
    else:
        raise ValidationError(
            f"env must be a PettingZoo ParallelEnv or a factory of one, got {type(env).__name__}"
        )
    if horizon is None:
        horizon = getattr(env, "horizon", None)
        if horizon is None:
            raise ValidationError("give horizon: the environment does not define one")
    return EnvSimulator(make_env, horizon, features)


# ---------------------------------------------------------------------------------------
# evaluation: the environment's own rewards, and exact tabulation


class EnvUtilities:
    """The rewards of an :class:`EnvSimulator`'s environment as a
    :class:`~regretgap.utilities.Utilities` (evaluation only; never hand it to a learner).

    ``reward(states, joint_actions)`` rebuilds each state's environment (``reset(seed)``
    and a replay of its actions, ``O(h)`` environment steps), plays the joint action and
    returns every possible agent's reward ``[n, m]`` (0 for an agent no longer live, and
    for a state whose episode has ended). The simulator itself stays reward-free.
    """

    def __init__(self, sim: EnvSimulator) -> None:
        if not isinstance(sim, EnvSimulator):
            raise ValidationError(
                f"env_utilities needs the EnvSimulator of as_simulator, got {type(sim).__name__}"
            )
        self._sim = sim

    @property
    def num_agents(self) -> int:
        """``m``: the environment's possible agents."""
        return len(self._sim.possible_agents)

    def __repr__(self) -> str:
        return f"EnvUtilities(agents={self._sim.possible_agents})"

    def reward(self, states: Any, joint_actions: Any) -> np.ndarray:
        """``r_i(s_k, a_k)`` for states ``[n]`` and flat joint actions ``[n]``: ``[n, m]``."""
        sim = self._sim
        arr = sim._check_states(states)
        a = check_joint_actions(joint_actions, arr.shape[0], int(np.prod(sim.num_actions)))
        out = np.zeros((arr.shape[0], self.num_agents))
        for k, st in enumerate(arr):
            if st.done:
                continue
            env = sim._replay(st)
            out[k] = sim._play_with_rewards(env, int(a[k]))[1]
            env.close()
        return out


def env_utilities(sim: EnvSimulator) -> EnvUtilities:
    """The environment's own rewards, read for evaluation: pass the result as
    ``utilities`` to :func:`regretgap.sampled.estimate_gaps` / ``estimate_regret`` to score
    a mediator on the environment that :func:`as_simulator` wrapped."""
    return EnvUtilities(sim)


class Tabulation(NamedTuple):
    """An environment enumerated as an exact layered Markov game (:func:`tabulate`).

    Attributes:
        game: the :class:`~regretgap.MarkovGame`, one state per distinct ``(h, key)``; its
            rewards are the environment's (evaluation only).
        states: object ``[S]``: an :class:`EnvState` of each game state.
        steps: ``[S]`` ints: the step ``h`` each state lives at.
        features: ``[H, S, d]``: ``sim.observe`` of each state at its step (zeros at the
            other steps), so ``policy.table(tab.game, tab.features)`` tabulates a sampled
            mediator exactly.
        keys: ``{(h, key): state index}``.
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    states: np.ndarray
    steps: np.ndarray
    features: np.ndarray
    keys: dict

    def index(
        self, states: Any, h: int, key: Callable[[EnvState], Any] | None = None
    ) -> np.ndarray:
        """Game-state indices ``[n]`` of simulator states at step ``h`` (ValidationError
        for a state the tabulation never reached). ``key``: as given to :func:`tabulate`."""
        fn = key or _default_key
        out = np.empty(len(states), dtype=np.int64)
        for k, st in enumerate(states):
            found = self.keys.get((int(h), fn(st)))
            if found is None:
                raise ValidationError(f"states[{k}] at h = {h} was not reached by tabulate")
            out[k] = found
        return out


def _default_key(st: EnvState) -> Any:
    """A state's identity for :func:`tabulate`: whether it ended, and every agent's
    observation (as bytes), so states with equal observations are merged."""
    parts = []
    for agent in sorted(st.observations):
        value = st.observations[agent]
        arr = np.asarray(value)
        parts.append(
            (agent, arr.dtype.str, arr.shape, arr.tobytes())
            if arr.dtype != object
            else (agent, repr(value))
        )
    return (st.done, tuple(parts))


def tabulate(
    sim: EnvSimulator,
    *,
    seeds: Any = (0,),
    key: Callable[[EnvState], Any] | None = None,
    max_states: int = 10_000,
) -> Tabulation:
    """Enumerate an environment's reachable states as an exact layered Markov game.

    From ``reset(seed)`` for each of ``seeds`` (the initial distribution is uniform over
    them), every joint action is played at every reached state up to step ``H - 1``; states
    with the same ``(h, key(state))`` become one game state. The default key is the
    environment's observations (and whether the episode ended), which is right when they
    identify the state (a fully observed environment). That is checked, not assumed: every
    merged state must give the same rewards and successor keys under every joint action,
    else ValidationError (pass a finer ``key``). Transitions are deterministic given the
    seed (the simulator's contract), so the game is exact for these seeds. Rewards: the
    environment's ``r_i(s, a)``, ``[m, S, A]`` (evaluation only: never give the game's
    rewards to a learner; give it ``sim`` or ``tab.game.simulator()``).

    Cost: ``sum_h (merged states at h) x A`` environment steps plus ``O(h)`` replays each.

    Raises:
        ValidationError: not an :class:`EnvSimulator`, no seeds, more than ``max_states``
            states, or a key that merges states that behave differently.
    """
    if not isinstance(sim, EnvSimulator):
        raise ValidationError(
            f"tabulate needs the EnvSimulator of as_simulator, got {type(sim).__name__}"
        )
    seed_list = [int(x) for x in np.atleast_1d(np.asarray(seeds))]
    if not seed_list:
        raise ValidationError("tabulate needs at least one reset seed")
    max_states = check_count("max_states", max_states)
    fn = key or _default_key
    horizon, num_joint = sim.horizon, int(np.prod(sim.num_actions))
    m = len(sim.possible_agents)
    keys: dict = {}
    members: list[list[EnvState]] = []
    steps: list[int] = []

    def intern(st: EnvState, h: int) -> int:
        k = (h, fn(st))
        if k not in keys:
            if len(keys) >= max_states:
                raise ValidationError(
                    f"more than max_states = {max_states} states by step {h}: raise max_states "
                    "or pass a coarser key"
                )
            keys[k] = len(members)
            members.append([])
            steps.append(h)
        members[keys[k]].append(st)
        return keys[k]

    initial_idx = []
    for seed in seed_list:
        env = sim._make_env()
        obs, _ = env.reset(seed=seed)
        initial_idx.append(intern(sim._new_state(seed, (), env, obs), 0))
    rows: dict[int, np.ndarray] = {}
    rewards: dict[int, np.ndarray] = {}
    frontier = sorted(set(initial_idx))
    for h in range(horizon):
        following: set[int] = set()
        for s in frontier:
            seen_next = seen_reward = None
            for st in members[s]:
                succ, rew = np.empty(num_joint, np.int64), np.zeros((m, num_joint))
                for a in range(num_joint):
                    if st.done:
                        nxt = EnvState(
                            st.seed, (*st.actions, a), st.observations, True, None, id(sim)
                        )
                    else:
                        env = sim._replay(st)
                        obs, rew[:, a] = sim._play_with_rewards(env, a)
                        nxt = sim._new_state(st.seed, (*st.actions, a), env, obs)
                    succ[a] = intern(nxt, h + 1) if h + 1 < horizon else -1
                if seen_next is None:
                    seen_next, seen_reward = succ, rew
                elif not (np.array_equal(succ, seen_next) and np.allclose(rew, seen_reward)):
                    raise ValidationError(
                        f"two states at h = {h} share a key but differ in their rewards or "
                        "successors: the key does not identify the state (pass a finer key=)"
                    )
            rows[s], rewards[s] = seen_next, seen_reward
            following.update(int(x) for x in seen_next if x >= 0)
        frontier = sorted(following)
    num_states = len(members)
    t = np.zeros((num_states, num_joint, num_states))
    r = np.zeros((m, num_states, num_joint))
    for s in range(num_states):
        nxt = rows.get(s, np.full(num_joint, -1))
        # the last step's successors are never used by a value: a self-loop keeps rows stochastic
        t[s, np.arange(num_joint), np.where(nxt >= 0, nxt, s)] = 1.0
        r[:, s] = rewards.get(s, 0.0)
    rho0 = np.bincount(initial_idx, minlength=num_states) / len(initial_idx)
    game = MarkovGame(t, r, rho0, horizon=horizon, num_actions=sim.num_actions)
    reps = np.empty(num_states, dtype=object)
    for s in range(num_states):
        reps[s] = members[s][0]
    d = sim.observe(reps[:1], 0).shape[1]
    features = np.zeros((horizon, num_states, d))
    for s in range(num_states):
        features[steps[s], s] = sim.observe(reps[s : s + 1], steps[s])[0]
    return Tabulation(game, reps, np.asarray(steps, dtype=np.int64), features, keys)
