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
that run in parallel: :func:`_gather` computes the continuations of every column plus its
reward (groups of ``GROUP`` columns with scalar accumulators) into a small L2-resident
buffer ``[C, A, CHUNK]``, then :func:`_reduce` applies each column's reduction with the
chunk's states innermost, so that the small per-state products vectorise. numpy would need
a ``[S*A, C]`` temporary and batched matmuls: about 3.6x the single mat-vec floor on the
benchmark game, adding up its measured parts (scipy block product 2.3x, deviation matmuls
0.85x, policy expectations 0.5x).

Measured on the benchmark game (``benchmarks/regret_eval.py``, 2 shared cores, one thread,
per step): the gather about 2.3x one scipy mat-vec (0.3x of it the reward rows; a
one-column numba gather is 0.9x, four columns cost the rest), the reductions about 0.75x,
and the whole regret evaluation 2.95-3.5x the floor depending on the machine's load.
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


#: States per parallel work item; its gathered continuations ``[C, A, CHUNK]`` stay in L2.
CHUNK = 128

#: Padding of the chunk axis of the continuations: a row stride of 1 KiB maps the gather's
#: 25 x 4 stores per state onto 4 L1 sets (measured: the gather ran about 5% faster padded).
PAD = 8


@njit(cache=True, nogil=True, fastmath=_FAST)
def _gather(
    lo_state, hi_state, indptr, indices, data, x_next, rew_h, col_rew, q
):  # pragma: no cover - compiled
    """``q[c, a, t] = f_c(s, a) + sum_s' T(s'|s, a) W_c(s')`` for states ``s = lo_state + t``.

    Kept apart from the reductions: compiled alone, this loop keeps its four accumulators
    in registers (fused with the reductions it ran 1.5x slower). ``indptr`` and ``indices``
    are unsigned views: numba then skips the negative-index wraparound of every gathered
    ``x_next[g, j]`` (measured: the single-vector loop went from 1.6x to 0.9x scipy's).
    The rewards ``rew_h[col_rew[c]]`` are added here, while the state's row is in cache
    (added in a separate pass they cost half as much as the gather itself).
    """
    num_joint = q.shape[1]
    groups = x_next.shape[0]
    for g in range(groups):
        x = x_next[g]
        r0 = col_rew[g * GROUP]
        r1 = col_rew[g * GROUP + 1]
        r2 = col_rew[g * GROUP + 2]
        r3 = col_rew[g * GROUP + 3]
        q0_out = q[g * GROUP]
        q1_out = q[g * GROUP + 1]
        q2_out = q[g * GROUP + 2]
        q3_out = q[g * GROUP + 3]
        for s in range(lo_state, hi_state):
            t = s - lo_state
            row0 = s * num_joint
            lo = indptr[row0]
            for a in range(num_joint):
                hi = indptr[row0 + a + 1]
                q0 = 0.0
                q1 = 0.0
                q2 = 0.0
                q3 = 0.0
                for k in range(lo, hi):
                    p = data[k]
                    j = indices[k]
                    q0 += p * x[j, 0]
                    q1 += p * x[j, 1]
                    q2 += p * x[j, 2]
                    q3 += p * x[j, 3]
                lo = hi
                if r0 >= 0:
                    q0 += rew_h[r0, s, a]
                if r1 >= 0:
                    q1 += rew_h[r1, s, a]
                if r2 >= 0:
                    q2 += rew_h[r2, s, a]
                if r3 >= 0:
                    q3 += rew_h[r3, s, a]
                q0_out[a, t] = q0
                q1_out[a, t] = q1
                q2_out[a, t] = q2
                q3_out[a, t] = q3


@njit(cache=True, nogil=True, fastmath=_FAST)
def _dot_rows(sig_t, qc, sig_rows, q_rows, out, num_states):  # pragma: no cover - compiled
    """``out[t] = sum_r sig_t[sig_rows[r], t] * qc[q_rows[r], t]`` (summed in ``r`` order)."""
    for t in range(num_states):
        out[t] = 0.0
    for r in range(sig_rows.shape[0]):
        w = sig_t[sig_rows[r]]
        v = qc[q_rows[r]]
        for t in range(num_states):
            out[t] += w[t] * v[t]


@njit(cache=True, nogil=True, fastmath=_FAST)
def _reduce(
    lo_state,
    hi_state,
    sigma_h,
    q,
    x_out,
    col_mode,
    col_agent,
    col_slot,
    phi_fixed,
    phi_out,
    perm,
    own,
    rest,
    num_actions,
):  # pragma: no cover - compiled
    """Reduce ``q [C, A, CHUNK]`` per column mode for a chunk of states.

    Every operation runs over the chunk's states in the innermost loop (``t``), so that
    the small per-state products (``n_i x n_i x R_i`` for a best response) vectorise and
    their loop overhead is paid once per chunk; each state's arithmetic is the same
    sequence of operations as a per-state loop. ``perm[i, a_i * R_i + r]`` is the joint
    action ``(a_i, a_-i = r)``.
    """
    num_cols, num_joint, _ = q.shape
    num = hi_state - lo_state
    stateful = phi_fixed.shape[1] > 1
    sig_t = np.empty((num_joint, CHUNK))  # sigma_h(a | lo_state + t)
    for t in range(num):
        for a in range(num_joint):
            sig_t[a, t] = sigma_h[lo_state + t, a]
    best = np.empty(CHUNK)
    cur = np.empty(CHUNK)
    total = np.empty(CHUNK)
    arg = np.empty(CHUNK, dtype=np.int32)
    for c in range(num_cols):
        qc = q[c]
        out_c = x_out[c // GROUP, :, c % GROUP]
        mode = col_mode[c]
        if mode == FOLLOW:
            for t in range(num):
                total[t] = 0.0
            for a in range(num_joint):
                w = sig_t[a]
                v = qc[a]
                for t in range(num):
                    total[t] += w[t] * v[t]
            for t in range(num):
                out_c[lo_state + t] = total[t]
            continue
        i = col_agent[c]
        n = num_actions[i]
        r_count = num_joint // n
        p = perm[i]
        slot = col_slot[c]
        if mode == FIXED:
            own_i = own[i]
            rest_i = rest[i]
            for t in range(num):
                phi = phi_fixed[slot, lo_state + t if stateful else 0]
                acc = 0.0
                for a in range(num_joint):
                    acc += sig_t[a, t] * qc[p[phi[own_i[a]] * r_count + rest_i[a]], t]
                out_c[lo_state + t] = acc
            continue
        # dev(a_i, b) = sum_r sigma(a_i, r) q((b, r))
        if mode == BEST_CE:
            for t in range(num):
                total[t] = 0.0
            for ai in range(n):
                own_rows = p[ai * r_count : (ai + 1) * r_count]
                _dot_rows(sig_t, qc, own_rows, own_rows, best, num)  # ties go to obeying
                for t in range(num):
                    arg[t] = ai
                for b in range(n):
                    if b == ai:
                        continue
                    _dot_rows(sig_t, qc, own_rows, p[b * r_count : (b + 1) * r_count], cur, num)
                    for t in range(num):
                        better = cur[t] > best[t]  # branch-free select
                        arg[t] = b if better else arg[t]
                        best[t] = cur[t] if better else best[t]
                for t in range(num):
                    total[t] += best[t]
                if slot >= 0:
                    for t in range(num):
                        phi_out[slot, lo_state + t, ai] = arg[t]
            for t in range(num):
                out_c[lo_state + t] = total[t]
        else:
            for t in range(num):
                best[t] = -np.inf
                arg[t] = 0
            for b in range(n):
                b_rows = p[b * r_count : (b + 1) * r_count]
                for t in range(num):
                    total[t] = 0.0
                for ai in range(n):
                    _dot_rows(sig_t, qc, p[ai * r_count : (ai + 1) * r_count], b_rows, cur, num)
                    for t in range(num):
                        total[t] += cur[t]
                for t in range(num):
                    better = total[t] > best[t]
                    arg[t] = b if better else arg[t]
                    best[t] = total[t] if better else best[t]
            for t in range(num):
                out_c[lo_state + t] = best[t]
            if slot >= 0:
                for t in range(num):
                    for ai in range(n):
                        phi_out[slot, lo_state + t, ai] = arg[t]


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
    perm,
    own,
    rest,
    num_actions,
):  # pragma: no cover - compiled
    """One backward step for all columns; see the module docstring.

    Shapes: ``sigma_h [S, A]``, ``rew_h [nr, S, A]``, ``x_next [G, S, GROUP]`` (column
    ``c`` is ``x_next[c // GROUP, :, c % GROUP]``), ``x_out`` likewise, ``C = G * GROUP``
    (``col_rew[c] < 0``: no reward), ``phi_fixed [K, S or 1, nmax]``,
    ``phi_out [nb, S, nmax]``, ``perm/own/rest [m, A]``; ``indptr``, ``indices`` and
    ``perm`` unsigned. States are independent given ``x_next``: chunks of states run in
    parallel.
    """
    num_states, num_joint = sigma_h.shape
    num_cols = x_next.shape[0] * GROUP
    num_chunks = (num_states + CHUNK - 1) // CHUNK
    for chunk in prange(num_chunks):
        lo = chunk * CHUNK
        hi = min(num_states, lo + CHUNK)
        q = np.empty((num_cols, num_joint, CHUNK + PAD))
        _gather(lo, hi, indptr, indices, data, x_next, rew_h, col_rew, q)
        _reduce(
            lo,
            hi,
            sigma_h,
            q,
            x_out,
            col_mode,
            col_agent,
            col_slot,
            phi_fixed,
            phi_out,
            perm,
            own,
            rest,
            num_actions,
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
