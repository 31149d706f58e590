"""One-to-one assignment of predictions to gold items: no prediction or gold item is credited twice.

:func:`assign` finds the assignment with the most matched pairs and, among those, the highest total score
(the Hungarian algorithm on a rectangular matrix, O(n²m); n, m are at most a few hundred here). Greedy
matching is not used: it can pair a prediction with the "wrong" gold item and leave a match unmade.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["assign"]

_INF = float("inf")


def assign(scores: Sequence[Sequence[float | None]]) -> list[tuple[int, int, float]]:
    """Pairs ``(gold_index, pred_index, score)`` of a maximum one-to-one matching, sorted by gold index.

    ``scores[i][j]`` is the score (0..1) of gold item ``i`` against prediction ``j``, or None when the two
    may not be matched. The matching first maximises the number of pairs, then the sum of their scores.
    """
    n = len(scores)
    m = len(scores[0]) if n else 0
    if n == 0 or m == 0:
        return []
    # Weight 1 per pair plus the score scaled below 1 in total: more pairs always wins over higher scores.
    scale = 1.0 / (min(n, m) + 1)
    transposed = n > m
    rows, cols = (m, n) if transposed else (n, m)

    def weight(r: int, c: int) -> float:
        s = scores[c][r] if transposed else scores[r][c]
        return 0.0 if s is None else 1.0 + max(0.0, min(1.0, s)) * scale

    # Minimise cost = -weight with potentials (rows <= cols); 1-based arrays as in the classic formulation.
    u = [0.0] * (rows + 1)
    v = [0.0] * (cols + 1)
    owner = [0] * (cols + 1)  # owner[c] = row assigned to column c (0 = none)
    way = [0] * (cols + 1)
    for r in range(1, rows + 1):
        owner[0] = r
        c0 = 0
        minv = [_INF] * (cols + 1)
        used = [False] * (cols + 1)
        while True:
            used[c0] = True
            r0 = owner[c0]
            delta, c1 = _INF, 0
            for c in range(1, cols + 1):
                if used[c]:
                    continue
                cur = -weight(r0 - 1, c - 1) - u[r0] - v[c]
                if cur < minv[c]:
                    minv[c] = cur
                    way[c] = c0
                if minv[c] < delta:
                    delta, c1 = minv[c], c
            for c in range(cols + 1):
                if used[c]:
                    u[owner[c]] += delta
                    v[c] -= delta
                else:
                    minv[c] -= delta
            c0 = c1
            if owner[c0] == 0:
                break
        while c0:
            c1 = way[c0]
            owner[c0] = owner[c1]
            c0 = c1
    pairs: list[tuple[int, int, float]] = []
    for c in range(1, cols + 1):
        r = owner[c]
        if r == 0:
            continue
        g, p = (c - 1, r - 1) if transposed else (r - 1, c - 1)
        s = scores[g][p]
        if s is not None:
            pairs.append((g, p, float(s)))
    pairs.sort()
    return pairs
