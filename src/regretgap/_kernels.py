"""Compiled inner loops of the exact evaluator (docs/MATH.md, "Exact evaluation").

One backward step evaluates ``C`` value columns at once with a single pass over the stacked
CSR transitions: for every state it gathers the continuation of all columns for every
joint action, ``q[a, c] = f_c(s, a) + sum_s' T(s'|s, a) W_{c, h+1}(s')``, and reduces it
in place:

- mode ``FOLLOW``: ``W_c(s) = sum_a sigma(a|s) q[a, c]`` (value of the mediator);
- mode ``FIXED``: ``W_c(s) = sum_a sigma(a|s) q[(phi(a_i), a_-i), c]`` (value of a given
  deviation of agent ``i``);
- mode ``BEST_CE``: ``W_c(s) = sum_{a_i} max_b sum_{a_-i} sigma(a_i, a_-i|s) q[(b, a_-i), c]``
  (best response over the complete per-step class, argmax written to the deviation table);
- mode ``BEST_CCE``: ``W_c(s) = max_b sum_a sigma(a|s) q[(b, a_-i), c]`` (best
  recommendation-ignoring response).

Each step is one pass over ``T`` for all agents together, in chunks of ``CHUNK`` states
that run in parallel: :func:`_gather` computes the continuations of every column (groups of
``GROUP`` columns with scalar accumulators) into a small L2-resident buffer, then
:func:`_reduce` adds rewards and applies each column's reduction. numpy would need a
``[S*A, C]`` temporary and batched matmuls: about 3.6x the single mat-vec floor on the
benchmark game, adding up its measured parts (scipy block product 2.3x, deviation matmuls
0.85x, policy expectations 0.5x). This kernel measured 2.2x with two threads and 4.3x with
one (``benchmarks/regret_eval.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

FOLLOW, FIXED, BEST_CE, BEST_CCE = 0, 1, 2, 3


#: Columns are processed in groups of this width with scalar accumulators: numba keeps
#: them in registers, whereas a loop over a runtime number of columns ran 2x slower.
GROUP = 4

# Reassociation lets LLVM vectorise the small dot products; NaN/inf semantics are kept
# (inputs are validated finite at the boundary).
_FAST = {"reassoc", "contract"}


#: States per parallel work item; its gathered continuations ``[CHUNK, A, C]`` stay in L2.
CHUNK = 128


@njit(cache=True, nogil=True, fastmath=_FAST)
def _gather(lo_state, hi_state, indptr, indices, data, x_next, q):  # pragma: no cover
    """``q[t, a, c] = sum_s' T(s'|s, a) W_c(s')`` for states ``s = lo_state + t``.

    Kept apart from the reductions: compiled alone, this loop keeps its four accumulators
    in registers (fused with the reductions it ran 1.5x slower).
    """
    num_joint = q.shape[1]
    groups = x_next.shape[0]
    for s in range(lo_state, hi_state):
        t = s - lo_state
        row0 = s * num_joint
        for a in range(num_joint):
            lo = indptr[row0 + a]
            hi = indptr[row0 + a + 1]
            for g in range(groups):
                q0 = 0.0
                q1 = 0.0
                q2 = 0.0
                q3 = 0.0
                for k in range(lo, hi):
                    p = data[k]
                    j = indices[k]
                    q0 += p * x_next[g, j, 0]
                    q1 += p * x_next[g, j, 1]
                    q2 += p * x_next[g, j, 2]
                    q3 += p * x_next[g, j, 3]
                c0 = g * GROUP
                q[t, a, c0] = q0
                q[t, a, c0 + 1] = q1
                q[t, a, c0 + 2] = q2
                q[t, a, c0 + 3] = q3


@njit(cache=True, nogil=True, fastmath=_FAST)
def _reduce(
    lo_state,
    hi_state,
    sigma_h,
    rew_h,
    q,
    x_out,
    col_mode,
    col_rew,
    col_agent,
    col_slot,
    phi_fixed,
    phi_out,
    joint_index,
    own,
    rest,
    num_actions,
    dev,
    sig_t,
    q_t,
):  # pragma: no cover - compiled
    """Add rewards and reduce ``q`` per column mode for states ``lo_state..hi_state-1``."""
    num_joint = q.shape[1]
    num_cols = q.shape[2]
    stateful = phi_fixed.shape[1] > 1
    for s in range(lo_state, hi_state):
        t = s - lo_state
        for c in range(num_cols):
            rr = col_rew[c]
            if rr >= 0:
                for a in range(num_joint):
                    q[t, a, c] += rew_h[rr, s, a]
        for c in range(num_cols):
            mode = col_mode[c]
            if mode == FOLLOW:
                acc = 0.0
                for a in range(num_joint):
                    acc += sigma_h[s, a] * q[t, a, c]
                x_out[s, c] = acc
            elif mode == FIXED:
                i = col_agent[c]
                srow = s if stateful else 0
                acc = 0.0
                for a in range(num_joint):
                    b = phi_fixed[col_slot[c], srow, own[i, a]]
                    acc += sigma_h[s, a] * q[t, joint_index[i, b, rest[i, a]], c]
                x_out[s, c] = acc
            else:
                i = col_agent[c]
                n = num_actions[i]
                r_count = num_joint // n
                for ai in range(n):
                    for r in range(r_count):
                        ja = joint_index[i, ai, r]
                        sig_t[ai, r] = sigma_h[s, ja]
                        q_t[r, ai] = q[t, ja, c]
                # dev[a_i, b] = sum_r sigma(a_i, r) q((b, r)): the innermost loop over b
                # keeps n independent accumulators instead of one serial chain each
                for ai in range(n):
                    for b in range(n):
                        dev[ai, b] = 0.0
                    for r in range(r_count):
                        w = sig_t[ai, r]
                        if w != 0.0:  # never-recommended (a_i, r) contribute nothing
                            for b in range(n):
                                dev[ai, b] += w * q_t[r, b]
                slot = col_slot[c]
                if mode == BEST_CE:
                    total = 0.0
                    for ai in range(n):
                        best = dev[ai, ai]  # ties go to obeying
                        arg = ai
                        for b in range(n):
                            v = dev[ai, b]
                            better = v > best  # branch-free select: random data mispredicts
                            arg = b if better else arg
                            best = v if better else best
                        total += best
                        if slot >= 0:
                            phi_out[slot, s, ai] = arg
                    x_out[s, c] = total
                else:
                    best = -np.inf
                    arg = 0
                    for b in range(n):
                        acc = 0.0
                        for ai in range(n):
                            acc += dev[ai, b]
                        if acc > best:
                            best = acc
                            arg = b
                    x_out[s, c] = best
                    if slot >= 0:
                        for ai in range(n):
                            phi_out[slot, s, ai] = arg


@njit(cache=True, nogil=True, parallel=True)
def backward_step(
    indptr,
    indices,
    data,
    sigma_h,
    rew_h,
    x_next,
    x_out,
    col_mode,
    col_rew,
    col_agent,
    col_slot,
    phi_fixed,
    phi_out,
    joint_index,
    own,
    rest,
    num_actions,
):  # pragma: no cover - compiled
    """One backward step for all columns; see the module docstring.

    Shapes: ``sigma_h [S, A]``, ``rew_h [nr, S, A]``, ``x_next [G, S, GROUP]`` (column
    ``c`` is ``x_next[c // GROUP, :, c % GROUP]``), ``x_out [S, C]`` with ``C = G * GROUP``
    (``col_rew[c] < 0``: no reward), ``phi_fixed [K, S or 1, nmax]``,
    ``phi_out [nb, S, nmax]``, ``joint_index [m, nmax, Rmax]``, ``own/rest [m, A]``.
    States are independent given ``x_next``: chunks of states run in parallel.
    """
    num_states, num_joint = sigma_h.shape
    num_cols = x_next.shape[0] * GROUP
    nmax = joint_index.shape[1]
    rmax = joint_index.shape[2]
    num_chunks = (num_states + CHUNK - 1) // CHUNK
    for chunk in prange(num_chunks):
        lo = chunk * CHUNK
        hi = min(num_states, lo + CHUNK)
        q = np.empty((CHUNK, num_joint, num_cols))
        _gather(lo, hi, indptr, indices, data, x_next, q)
        _reduce(
            lo,
            hi,
            sigma_h,
            rew_h,
            q,
            x_out,
            col_mode,
            col_rew,
            col_agent,
            col_slot,
            phi_fixed,
            phi_out,
            joint_index,
            own,
            rest,
            num_actions,
            np.empty((nmax, nmax)),
            np.empty((nmax, rmax)),
            np.empty((rmax, nmax)),
        )


@njit(cache=True, nogil=True)
def sample_successors(indptr, indices, data, rows, u):  # pragma: no cover - compiled
    """Inverse-CDF draw of ``s' ~ T(. | row)`` for each ``rows[k]`` with uniform ``u[k]``."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    for k in range(rows.shape[0]):
        lo = indptr[rows[k]]
        hi = indptr[rows[k] + 1]
        acc = 0.0
        pick = indices[hi - 1]  # guards against round-off leaving u above the last sum
        for j in range(lo, hi):
            acc += data[j]
            if u[k] < acc:
                pick = indices[j]
                break
        out[k] = pick
    return out
