"""OpenSpiel simultaneous-move games as layered Markov games.

:func:`to_markov_game` enumerates every state an OpenSpiel simultaneous-move game
(``markov_soccer``, ``laser_tag``, ``pathfinding``, ``coop_box_pushing``, matrix and tensor
games, ...) reaches within ``H`` joint actions into a layered :class:`~regretgap.MarkovGame`
(paper section 3): a state is a pair ``(h, markov_key)``, chance nodes are folded into
``T(s' | s, a)``, reward increments become ``r_i(s, a)`` and terminals are absorbing with
zero reward. Needs the optional extra: ``pip install "regretgap[openspiel]"``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from math import prod
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from regretgap._repr import short_repr
from regretgap.errors import ValidationError
from regretgap.game import MarkovGame

#: ``markov_key(state, previous_key) -> key``: the Markov state of an OpenSpiel decision or
#: terminal state, given the key of the decision state it was reached from (``None`` at the
#: root). Two states with equal keys at the same step must have the same future: the same
#: legal actions, transitions and reward increments.
MarkovKey = Callable[[Any, Hashable], Hashable]

#: Lines of ``coop_box_pushing``'s ``str(state)`` that carry history, not state.
_COOP_HISTORY_LINES = ("Total moves:", "Most recent reward:", "Total rewards:")


def _pyspiel() -> Any:
    try:
        import pyspiel
    except ImportError as exc:  # one line, naming the extra
        raise ImportError(
            'regretgap.openspiel needs OpenSpiel: pip install "regretgap[openspiel]"'
        ) from exc
    return pyspiel


class OpenSpielGame(NamedTuple):
    """A converted OpenSpiel game and the map back to OpenSpiel.

    Attributes:
        game: the layered :class:`~regretgap.MarkovGame`; agent ``i`` is OpenSpiel player
            ``i`` and action ``a_i`` is OpenSpiel action id ``a_i``
            (``num_actions = (num_distinct_actions,) * m``).
        spiel_game: the ``pyspiel.Game`` that was enumerated.
        state_strings: ``[S]`` ``str(state)`` of one OpenSpiel state of each Markov state
            (for ``coop_box_pushing`` its history lines belong to that one representative).
        step: ``[S]`` int, the step ``h`` (``0..H``) at which each state lives. States at
            step ``H`` close the horizon: absorbing, zero reward, never acted in.
        terminal: ``[S]`` bool, OpenSpiel terminal states (absorbing, zero reward).
        legal: ``[S, m, n]`` bool, ``legal[s, i, b]``: OpenSpiel allows agent ``i`` action
            ``b`` at ``s``. An illegal action is played as the agent's first legal action.
            All true at terminal and step-``H`` states, where no action changes anything.
        keys: ``[S]`` the Markov key of each state.
        index: ``{(h, key): s}``, the inverse of ``(step, keys)``.
        markov_key: the key function used (see :data:`MarkovKey`).
    """

    def __repr__(self) -> str:
        return short_repr(self)

    game: MarkovGame
    spiel_game: Any
    state_strings: tuple[str, ...]
    step: np.ndarray
    terminal: np.ndarray
    legal: np.ndarray
    keys: tuple[Hashable, ...]
    index: dict[tuple[int, Hashable], int]
    markov_key: MarkovKey

    def locate(self, state: Any, h: int, previous_key: Hashable = None) -> tuple[int, Hashable]:
        """State index and key of OpenSpiel ``state`` at step ``h``.

        ``previous_key`` is the key of the decision state the trajectory came from (``None``
        at step 0); thread the returned key through a simulation.
        """
        key = self.markov_key(state, previous_key)
        try:
            return self.index[(h, key)], key
        except KeyError:
            raise ValidationError(
                f"OpenSpiel state at step {h} was not enumerated (key {key!r})"
            ) from None


# -- Markov keys ---------------------------------------------------------------------------
def _string_key(state: Any, previous: Hashable) -> Hashable:
    return str(state)


def _coop_box_pushing_key(state: Any, previous: Hashable) -> Hashable:
    # str(state) opens with running totals (moves, last reward, total reward): two histories
    # reaching one configuration differ there. The step count is already the layer h.
    lines = str(state).split("\n")
    return "\n".join(x for x in lines if not x.startswith(_COOP_HISTORY_LINES))


def _pathfinding_key(spiel_game: Any) -> MarkovKey:
    # The solve reward is paid the first time a player reaches its destination
    # (reached_destinations_ in pathfinding.cc), which str(state) does not show: the key
    # carries one "has reached" flag per player along the trajectory.
    m = spiel_game.num_players()
    root = spiel_game.new_initial_state()
    rows = str(root).split("\n")
    cols = len(rows[0])
    planes = np.asarray(root.observation_tensor(0)).reshape(3 * m + 2, -1, cols)
    # planes 2m + p: player p's destination (egocentric order from player 0 is p itself)
    where = [np.argwhere(planes[2 * m + p])[0] for p in range(m)]
    char_at = [int(r) * (cols + 1) + int(c) for r, c in where]  # +1 for the newline
    labels = [str(p) for p in range(m)]  # at most 10 players: one digit each

    def key(state: Any, previous: Hashable) -> Hashable:
        text = str(state)
        before = previous[1] if previous is not None else (False,) * m
        reached = tuple(
            bool(b or text[k] == lab) for b, k, lab in zip(before, char_at, labels, strict=True)
        )
        return text, reached

    return key


def default_markov_key(spiel_game: Any) -> MarkovKey:
    """The Markov key :func:`to_markov_game` uses for ``spiel_game``.

    ``str(state)`` (Markov for markov_soccer, laser_tag, matrix and tensor games);
    ``coop_box_pushing``: ``str(state)`` without its three running-total lines;
    ``pathfinding``: ``(str(state), reached)`` with one "has reached its destination" flag
    per player, which decides whether the solve reward is still due.
    """
    name = spiel_game.get_type().short_name
    if name == "coop_box_pushing":
        return _coop_box_pushing_key
    if name == "pathfinding":
        return _pathfinding_key(spiel_game)
    return _string_key


# -- enumeration ---------------------------------------------------------------------------
def _load(pyspiel: Any, game_or_name: Any, params: dict[str, Any] | None) -> Any:
    if isinstance(game_or_name, str):
        try:
            return pyspiel.load_game(game_or_name, dict(params or {}))
        except Exception as exc:  # pyspiel.SpielError and RuntimeError for bad names/params
            raise ValidationError(
                f"OpenSpiel cannot load game_or_name={game_or_name!r} with params={params!r}: {exc}"
            ) from exc
    if params is not None:
        raise ValidationError(
            "params apply only when game_or_name is a name; got a loaded game and "
            f"params={params!r}"
        )
    if not isinstance(game_or_name, pyspiel.Game):
        raise ValidationError(
            f"game_or_name must be a pyspiel.Game or a game name, got {type(game_or_name).__name__}"
        )
    return game_or_name


def _check_game(pyspiel: Any, game: Any) -> None:
    kind = game.get_type()
    name = kind.short_name
    if kind.dynamics != pyspiel.GameType.Dynamics.SIMULTANEOUS:
        raise ValidationError(
            f"game_or_name={name!r} has {kind.dynamics.name} dynamics: to_markov_game needs a "
            "simultaneous-move game (every agent acts at every decision node)"
        )
    if kind.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
        raise ValidationError(
            f"game_or_name={name!r} samples its chance outcomes (SAMPLED_STOCHASTIC): they "
            "cannot be enumerated into transitions"
        )
    if game.num_distinct_actions() < 1:
        raise ValidationError(
            f"game_or_name={name!r} has num_distinct_actions() = "
            f"{game.num_distinct_actions()}: continuous or empty action sets cannot be "
            "enumerated"
        )


def _resolve_chance(state: Any, prob: float, out: list[tuple[Any, float]]) -> None:
    """Append ``(state', P)`` for every non-chance state a chance chain from ``state`` ends in.

    Probabilities multiply along the chain; the last outcome of each chance node reuses the
    node's own object (one ``clone()`` fewer per node).
    """
    stack = [(state, prob)]
    while stack:
        st, p = stack.pop()
        if not st.is_chance_node():
            out.append((st, p))
            continue
        outcomes = [(o, q) for o, q in st.chance_outcomes() if q > 0]
        last = len(outcomes) - 1
        for k, (o, q) in enumerate(outcomes):
            child = st if k == last else st.clone()
            child.apply_action(o)
            stack.append((child, p * q))


def to_markov_game(
    game_or_name: Any,
    horizon: int,
    *,
    params: dict[str, Any] | None = None,
    max_states: int = 200_000,
    markov_key: MarkovKey | None = None,
) -> OpenSpielGame:
    """Enumerate a simultaneous-move OpenSpiel game into a layered Markov game.

    ``T(s' | s, a) = sum over chance chains c after joint a: P(c)`` with ``s' = (h+1, key)``;
    ``r_i(s, a) = E_c[returns_i(s') - returns_i(s)]``, the expected reward increment of
    joint ``a`` at ``s``, rewards paid at the chance resolution that follows included.

    States are ``(h, markov_key)`` for ``h = 0..H``, deduplicated per layer, so the game is
    layered. A terminal state at step ``h`` moves to its copy at ``h + 1`` with zero
    reward; states at step ``H`` loop on themselves (never reached before ``H``). At a state
    where agent ``i``'s action ``b`` is illegal, ``b`` plays as agent ``i``'s first legal
    action (``legal_actions(i)[0]``), so every joint action is defined everywhere.

    Args:
        game_or_name: a ``pyspiel.Game`` or a name for ``pyspiel.load_game``.
        horizon: ``H >= 1`` joint actions (OpenSpiel's own ``horizon`` parameter, if any,
            still ends the game earlier).
        params: game parameters, only with a name (e.g. ``{"grid": "A.\\n.a"}``).
        max_states: raise instead of enumerating more states than this (rewards alone
            take ``8 m S A`` bytes).
        markov_key: the state key (:data:`MarkovKey`); default :func:`default_markov_key`.

    Returns:
        :class:`OpenSpielGame`: ``game.transitions`` CSR ``[S*A, S]``, ``game.rewards``
        ``[m, S, A]``, ``game.initial`` ``[S]`` (the root's chance chain), and the map back.

    Raises:
        ValidationError: sequential or mean-field games, sampled chance, no finite action
            set, a bad horizon / params, or more than ``max_states`` states.
        ImportError: OpenSpiel is not installed.
    """
    pyspiel = _pyspiel()
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValidationError(f"horizon must be an integer >= 1, got {horizon!r}")
    if isinstance(max_states, bool) or not isinstance(max_states, (int, np.integer)):
        raise ValidationError(f"max_states must be an integer, got {max_states!r}")
    horizon = int(horizon)
    spiel_game = _load(pyspiel, game_or_name, params)
    _check_game(pyspiel, spiel_game)
    name = spiel_game.get_type().short_name
    key_fn = markov_key if markov_key is not None else default_markov_key(spiel_game)

    m = spiel_game.num_players()
    n = spiel_game.num_distinct_actions()
    num_actions = (n,) * m
    a_count = prod(num_actions)
    table = np.indices(num_actions).reshape(m, -1)  # [m, A] per-agent actions of joint a

    reps: list[Any] = []  # one OpenSpiel state per Markov state (freed once expanded)
    keys: list[Hashable] = []
    steps: list[int] = []
    layers: list[dict[Hashable, int]] = [{} for _ in range(horizon + 1)]  # key -> s, per h

    def new_state(h: int, key: Hashable, st: Any) -> int:
        s = len(keys)
        if s >= max_states:
            raise ValidationError(
                f"game_or_name={name!r} with horizon={horizon} has more than "
                f"max_states={max_states} states (reached at step {h}); raise "
                "max_states, lower horizon or shrink the game through params"
            )
        layers[h][key] = s
        keys.append(key)
        steps.append(h)
        reps.append(st)
        return s

    def state_of(h: int, key: Hashable, st: Any) -> int:
        s = layers[h].get(key)
        return new_state(h, key, st) if s is None else s

    roots: list[tuple[Any, float]] = []
    _resolve_chance(spiel_game.new_initial_state(), 1.0, roots)
    initial_mass: dict[int, float] = {}
    for st, p in roots:
        s = state_of(0, key_fn(st, None), st)
        initial_mass[s] = initial_mass.get(s, 0.0) + p

    strings: list[str] = []
    terminal: list[bool] = []
    legal_rows: list[np.ndarray] = []
    # CSR pieces as flat Python lists (numpy calls per row cost more than the game itself)
    cols: list[int] = []
    probs: list[float] = []
    lens: list[int] = []  # entries of each row s*A + a, in row order
    gains: list[float] = []  # r[:, s, a] flattened in (s, a, i) order
    zeros = [0.0] * (a_count * m)
    plain = key_fn is _string_key

    s = 0
    while s < len(keys):
        st, h, key = reps[s], steps[s], keys[s]
        reps[s] = None  # free OpenSpiel states once expanded
        strings.append(str(st))
        is_terminal = st.is_terminal()
        terminal.append(is_terminal)
        legal = np.zeros((m, n), dtype=bool)
        if is_terminal or h == horizon:
            legal[:] = True
            nxt = s if h == horizon else state_of(h + 1, key, st)
            cols.extend([nxt] * a_count)
            probs.extend([1.0] * a_count)
            lens.extend([1] * a_count)
            gains.extend(zeros)
            legal_rows.append(legal)
            s += 1
            continue
        if not st.is_simultaneous_node():
            raise ValidationError(
                f"game_or_name={name!r}: the state at step {h} is neither simultaneous, "
                f"chance nor terminal (player {st.current_player()} moves alone):\n{st}"
            )
        lists = [st.legal_actions(i) for i in range(m)]
        for i, acts in enumerate(lists):
            if not acts:
                raise ValidationError(
                    f"game_or_name={name!r}: agent {i} has no legal action at step {h}:\n{st}"
                )
            legal[i, acts] = True
        legal_rows.append(legal)
        base = st.returns()
        played = list(itertools.product(*lists))
        last = len(played) - 1
        nxt_layer = layers[h + 1]
        rows: list[tuple[list[int], list[float], list[float]]] = []
        for k, joint in enumerate(played):
            child = st if k == last else st.clone()
            child.apply_actions(joint)
            if child.is_chance_node():
                outcomes: list[tuple[Any, float]] = []
                _resolve_chance(child, 1.0, outcomes)
            else:
                outcomes = [(child, 1.0)]
            succ: dict[int, float] = {}
            gain = [-x for x in base]  # probabilities sum to one: E[returns'] - returns
            for nxt_state, p in outcomes:
                nxt_key = str(nxt_state) if plain else key_fn(nxt_state, key)
                t = nxt_layer.get(nxt_key)
                if t is None:
                    t = new_state(h + 1, nxt_key, nxt_state)
                succ[t] = succ.get(t, 0.0) + p
                gain = [g + p * x for g, x in zip(gain, nxt_state.returns(), strict=True)]
            rows.append((list(succ), list(succ.values()), gain))
        if len(played) == a_count:  # all actions legal: played joint k is joint a = k
            which: Any = range(a_count)
        else:  # each agent's played action: its own if legal, else its first legal one
            pos = np.zeros((m, n), dtype=np.int64)
            for i, acts in enumerate(lists):
                pos[i, acts] = np.arange(len(acts))
            which = np.ravel_multi_index(
                tuple(pos[i, table[i]] for i in range(m)), tuple(len(x) for x in lists)
            ).tolist()
        for k in which:
            row_cols, row_probs, gain = rows[k]
            cols.extend(row_cols)
            probs.extend(row_probs)
            lens.append(len(row_cols))
            gains.extend(gain)
        s += 1

    s_count = len(keys)
    indptr = np.zeros(s_count * a_count + 1, dtype=np.int64)
    np.cumsum(np.asarray(lens, dtype=np.int64), out=indptr[1:])
    transitions = sp.csr_matrix(
        (np.asarray(probs, dtype=np.float64), np.asarray(cols, dtype=np.int64), indptr),
        shape=(s_count * a_count, s_count),
    )
    initial = np.zeros(s_count)
    for t, p in initial_mass.items():
        initial[t] = p
    game = MarkovGame(
        transitions=transitions,
        rewards=np.asarray(gains).reshape(s_count, a_count, m).transpose(2, 0, 1),
        initial=initial,
        horizon=horizon,
        num_actions=num_actions,
    )
    step = np.asarray(steps, dtype=np.int64)
    terminal_arr = np.asarray(terminal, dtype=bool)
    legal_arr = np.stack(legal_rows)
    for x in (step, terminal_arr, legal_arr):
        x.flags.writeable = False
    index = {(h, key): t for h, layer in enumerate(layers) for key, t in layer.items()}
    return OpenSpielGame(
        game=game,
        spiel_game=spiel_game,
        state_strings=tuple(strings),
        step=step,
        terminal=terminal_arr,
        legal=legal_arr,
        keys=tuple(keys),
        index=index,
        markov_key=key_fn,
    )
