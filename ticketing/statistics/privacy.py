"""Small-cell suppression with complementary suppression, and months as post-processing of days.
Pure: no I/O.

**The attacker.** They know every released cell and margin, which inner cells are present (a
suppressed inner cell is ≥ 1, an absent one is 0) and that margins are sums. A suppressed cell is
safe when the feasible interval of its value has width ≥ 1.

**The audit is a graph problem, exact and linear.** The constraint matrix (row lines, column lines,
the total) is totally unimodular, so LP bounds are integer and a suppressed cell is undetermined
iff some feasible direction d (A d = 0, d ≥ 0 on cells at their bound 1) moves it. Those
directions are circulations on the graph whose nodes are rows and columns and whose edges are the
suppressed cells (row → column: the cell grows; column → row: it shrinks, allowed only for a
value ≥ 2). A row or column whose margin is suppressed is free: it is joined to a source node
``S_r`` (rows) or ``S_c`` (columns), which are one node when the total is suppressed too. A cell at
1 is safe iff its two ends lie in one strongly connected component; a cell ≥ 2 iff a path joins
its ends without it. This replaces an LP per component (tests attack with their own LP). A
cell ≥ 2 that is no bridge of the two-way arcs' undirected graph is undetermined at once; the
bridges are checked locally (an arc out of one end and into the other through one bridge-free
component) and only then by a search.

**Complements.** The classic heuristic first (a line with a known margin and one suppressed cell
gets its smallest released cell), then, for each cell the audit finds determined, the cheapest
cycle through it (Dijkstra; released cells cost their value) is suppressed. A round's
searches run on the audit's components contracted, merged as repairs close cycles through them
(a cell whose lines a repair already joined is skipped); the next audit decides what is left. Adding suppressed
cells only widens intervals, so this terminates. When no cycle exists even through released cells
(a row of 1s whose margin is released), the **last resort** suppresses the cell's row margin, then
its column margin, then the total: this is the one case where a margin is suppressed for another
reason than its own value, and the same margin released by another family of the scope would give
it back; it needs a line made of 1s summing to ≥ k, rare outside OD tables.

**Known limits.** A suppressed margin may be derivable from other margins (total − released row
margins); its inner cells stay protected. Amounts follow counts; an attacker knowing unit prices
gets one more equation per money margin, which this audit does not model.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from ticketing.statistics.model import ALL, ONE_COLUMN, Cell, RawTable, ReleasedTable

__all__ = ["protect", "combine_days"]


class _Table:
    """The working state of one table: cells as parallel lists, lines as node indices."""

    def __init__(self, table: RawTable, k: int) -> None:
        keys = sorted(table.counts)
        self.keys = keys
        self.vals = [int(table.counts[key]) for key in keys]
        self.one_dim = all(c == ONE_COLUMN for _, c in keys)
        rows = sorted({r for r, _ in keys})
        cols = sorted({c for _, c in keys})
        self.rows, self.cols = rows, cols
        ri = {r: i for i, r in enumerate(rows)}
        ci = {c: len(rows) + i for i, c in enumerate(cols)}
        self.r = [ri[r] for r, _ in keys]
        self.c = [ci[c] for _, c in keys]
        self.n_nodes = len(rows) + len(cols) + 2
        self.s_r, self.s_c = len(rows) + len(cols), len(rows) + len(cols) + 1
        self.lines: list[list[int]] = [[] for _ in range(self.n_nodes)]
        for i in range(len(keys)):
            self.lines[self.r[i]].append(i)
            self.lines[self.c[i]].append(i)
        sums = [0] * self.n_nodes
        for i, v in enumerate(self.vals):
            sums[self.r[i]] += v
            sums[self.c[i]] += v
        self.sums = sums
        self.total = sum(self.vals)
        self.total_free = 1 <= self.total < k
        # free[node]: the line's margin is not released (no equation)
        self.free = [1 <= s < k for s in sums[:-2]] + [False, False]
        if self.one_dim:
            for n in range(len(rows)):
                self.free[n] = True
            for n in range(len(rows), len(rows) + len(cols)):
                self.free[n] = self.total_free
        self.margin_forced: set[int] = set()  # last resort
        self.sup = [1 <= v < k for v in self.vals]

    def s_of(self, node: int) -> int:
        if self.total_free:
            return self.s_r
        return self.s_r if node < len(self.rows) else self.s_c

    def arcs(self) -> list[list[tuple[int, int]]]:
        """Arcs of the suppressed graph: out[node] = [(next node, cell or -1)]."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.n_nodes)]
        for i, s in enumerate(self.sup):
            if s:
                out[self.r[i]].append((self.c[i], i))
                if self.vals[i] >= 2:
                    out[self.c[i]].append((self.r[i], i))
        for n in range(self.n_nodes - 2):
            if self.free[n]:
                s = self.s_of(n)
                out[n].append((s, -1))
                out[s].append((n, -1))
        return out


def _scc(out: list[list[tuple[int, int]]]) -> list[int]:
    """Tarjan's strongly connected components, iterative."""
    n = len(out)
    index = [-1] * n
    low = [0] * n
    on = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = 0
    ncomp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            v, pos = work[-1]
            if pos < len(out[v]):
                work[-1] = (v, pos + 1)
                w = out[v][pos][0]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on[w] = True
                    work.append((w, 0))
                elif on[w]:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on[w] = False
                        comp[w] = ncomp
                        if w == v:
                            break
                    ncomp += 1
    return comp


def _reaches(out: list[list[tuple[int, int]]], src: int, dst: int, skip: int, comp: list[int]) -> bool:
    seen = {src}
    todo = [src]
    target = comp[dst]
    while todo:
        v = todo.pop()
        for w, cell in out[v]:
            if cell == skip or w in seen or comp[w] != target:
                continue
            if w == dst:
                return True
            seen.add(w)
            todo.append(w)
    return False


def _bridges(t: _Table) -> set[int]:
    """Suppressed cells ≥ 2 that are bridges of the undirected graph of two-way arcs (those cells
    and the free margins' links): a cell that is not one has a two-way path between its ends
    without it, so it is undetermined; only bridges need the directed search."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(t.n_nodes)]
    edge = 0
    cell_of: list[int] = []
    for i, s in enumerate(t.sup):
        if s and t.vals[i] >= 2:
            adj[t.r[i]].append((t.c[i], edge))
            adj[t.c[i]].append((t.r[i], edge))
            cell_of.append(i)
            edge += 1
    for n in range(t.n_nodes - 2):
        if t.free[n]:
            s = t.s_of(n)
            adj[n].append((s, edge))
            adj[s].append((n, edge))
            cell_of.append(-1)
            edge += 1
    index = [-1] * t.n_nodes
    low = [0] * t.n_nodes
    counter = 0
    found: set[int] = set()
    for root in range(t.n_nodes):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        work = [(root, -1, 0)]  # node, the edge it was reached by, next neighbour position
        while work:
            v, via, pos = work[-1]
            if pos < len(adj[v]):
                work[-1] = (v, via, pos + 1)
                w, e = adj[v][pos]
                if e == via:
                    continue
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    work.append((w, e, 0))
                else:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                    if low[v] > index[u] and cell_of[via] >= 0:
                        found.add(cell_of[via])
    return found


def _audit(t: _Table) -> tuple[list[int], list[int]]:
    """The determined suppressed cells, and the strongly connected components of the lines."""
    out = t.arcs()
    comp = _scc(out)
    bridges = _bridges(t)
    into: list[list[tuple[int, int]]] = [[] for _ in out]
    for v, arcs in enumerate(out):
        for w, cell in arcs:
            into[w].append((v, cell))
    # components without any bridge cell: a path inside one of them avoids every bridge
    without = _scc([[(w, cell) for w, cell in arcs if cell not in bridges] for arcs in out]) if bridges else comp

    def path_without(i: int, a: int, b: int) -> bool:
        """A path a -> b without cell i, which holds one arc out of a and one into b."""
        starts = {without[w] for w, cell in out[a] if cell != i}
        if not starts or not any(cell != i for _, cell in into[b]):
            return False
        if any(without[x] in starts for x, cell in into[b] if cell != i):
            return True  # a -> w, then inside w's bridge-free component to x, then x -> b
        return _reaches(out, a, b, i, comp)
    bad = []
    for i, s in enumerate(t.sup):
        if not s:
            continue
        r, c = t.r[i], t.c[i]
        if t.vals[i] == 1:
            if comp[r] != comp[c]:
                bad.append(i)
        elif i in bridges and not (path_without(i, c, r) or path_without(i, r, c)):
            bad.append(i)
    return bad, comp


def _unsafe(t: _Table) -> list[int]:
    return _audit(t)[0]


def _cheapest_path(t: _Table, src: int, dst: int, skip: int) -> tuple[float, list[int]] | None:
    """Dijkstra from src to dst without cell ``skip``: suppressed arcs cost 0, released cells their
    value; returns (cost, released cells on the path)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(t.n_nodes)]
    for i in range(len(t.vals)):
        if i == skip:
            continue
        adj[t.r[i]].append((t.c[i], i))
        if not t.sup[i] or t.vals[i] >= 2:
            adj[t.c[i]].append((t.r[i], i))
    for n in range(t.n_nodes - 2):
        if t.free[n]:
            s = t.s_of(n)
            adj[n].append((s, -1))
            adj[s].append((n, -1))
    dist = {src: 0.0}
    prev: dict[int, tuple[int, int]] = {}
    heap = [(0.0, src)]
    while heap:
        d, v = heapq.heappop(heap)
        if v == dst:
            cells = []
            while v != src:
                v, cell = prev[v]
                if cell >= 0 and not t.sup[cell]:
                    cells.append(cell)
            return d, cells
        if d > dist.get(v, float("inf")):
            continue
        for w, cell in adj[v]:
            cost = 0.0 if cell < 0 or t.sup[cell] else float(t.vals[cell])
            nd = d + cost + 1e-6
            if nd < dist.get(w, float("inf")):
                dist[w] = nd
                prev[w] = (v, cell)
                heapq.heappush(heap, (nd, w))
    return None


def _repair(t: _Table, i: int) -> None:
    """Make cell ``i`` undetermined: suppress the released cells of its cheapest cycle, or (last
    resort) free its lines' margins."""
    while True:
        r, c = t.r[i], t.c[i]
        options = [p for p in (_cheapest_path(t, c, r, i),
                               _cheapest_path(t, r, c, i) if t.vals[i] >= 2 else None) if p is not None]
        if options:
            for cell in min(options, key=lambda p: p[0])[1]:
                t.sup[cell] = True
            return
        for node in (r, c):
            if not t.free[node] and not (t.one_dim and node == r):
                t.free[node] = True
                t.margin_forced.add(node)
                if t.one_dim:
                    t.total_free = True
                break
        else:
            if t.total_free:
                return  # nothing left to free: cannot happen (then the cell is free)
            t.total_free = True
            t.margin_forced.add(-1)


class _Contracted:
    """One repair round's graph with each strongly connected component (of the audit) contracted
    to a node, and components merged (union-find) as repairs close cycles through them.

    Merges only follow cycles that exist, so two lines in one merged group are strongly connected:
    a cell at 1 between them is safe without another audit. The arcs between components are those
    of the round's start; repairs only add arcs (a suppressed released cell keeps both directions,
    being ≥ k ≥ 2) and lower costs (read when used), so every path found exists. A path may cost
    more than the current cheapest (a margin freed in the round is linked, a suppression merged);
    the next round's exact audit decides."""

    def __init__(self, t: _Table, comp: list[int]) -> None:
        self.t = t
        self.comp = comp
        n = max(comp) + 1
        self.parent = list(range(n))
        self.members = [[g] for g in range(n)]
        self.out: list[list[tuple[int, int]]] = [[] for _ in range(n)]  # component -> (component, cell or -1)
        for i in range(len(t.vals)):
            a, b = comp[t.r[i]], comp[t.c[i]]
            if a == b:
                continue
            self.out[a].append((b, i))
            if not t.sup[i] or t.vals[i] >= 2:
                self.out[b].append((a, i))
        for node in range(t.n_nodes - 2):
            if t.free[node]:
                self.link(node)

    def link(self, node: int) -> None:
        """A freed margin: the two-way link of ``node`` to its source, which also joins them."""
        a, b = self.comp[node], self.comp[self.t.s_of(node)]
        if a != b:
            self.out[a].append((b, -1))
            self.out[b].append((a, -1))
            self.union([a, b])

    def find(self, g: int) -> int:
        while self.parent[g] != g:
            self.parent[g] = self.parent[self.parent[g]]
            g = self.parent[g]
        return g

    def union(self, groups: list[int]) -> None:
        roots = {self.find(g) for g in groups}
        if len(roots) < 2:
            return
        keep = max(roots, key=lambda g: len(self.members[g]))
        for g in roots - {keep}:
            self.parent[g] = keep
            self.members[keep].extend(self.members[g])
            self.members[g] = []

    def joined(self, a: int, b: int) -> bool:
        return self.find(self.comp[a]) == self.find(self.comp[b])

    def cheapest_cycle(self, src: int, dst: int) -> tuple[list[int], list[int]] | None:
        """Dijkstra from line ``src`` to line ``dst`` over merged groups: (the released cells to
        suppress, the groups the path crosses), or None when no path exists."""
        t = self.t
        start, goal = self.find(self.comp[src]), self.find(self.comp[dst])
        dist = {start: 0.0}
        prev: dict[int, tuple[int, int]] = {}
        heap = [(0.0, start)]
        while heap:
            d, g = heapq.heappop(heap)
            if g == goal:
                cells, groups = [], [g]
                while g != start:
                    g, cell = prev[g]
                    groups.append(g)
                    if cell >= 0 and not t.sup[cell]:
                        cells.append(cell)
                return cells, groups
            if d > dist.get(g, float("inf")):
                continue
            for member in self.members[g]:
                for w, cell in self.out[member]:
                    h = self.find(w)
                    if h == g:
                        continue
                    nd = d + (0.0 if cell < 0 or t.sup[cell] else float(t.vals[cell])) + 1e-6
                    if nd < dist.get(h, float("inf")):
                        dist[h] = nd
                        prev[h] = (g, cell)
                        heapq.heappush(heap, (nd, h))
        return None


def _free_margin(t: _Table, r: int, c: int) -> int | None:
    """The last resort for a cell on lines ``r`` × ``c``: free its row margin, else its column's
    (the line freed), else the total (None)."""
    for node in (r, c):
        if not t.free[node] and not (t.one_dim and node == r):
            t.free[node] = True
            t.margin_forced.add(node)
            if t.one_dim:
                t.total_free = True
            return node
    t.total_free = True
    t.margin_forced.add(-1)
    return None


def _repair_round(t: _Table, bad: list[int], comp: list[int]) -> None:
    """Repair the determined cells of one audit: a cell at 1 on lines r → c needs a path c → r;
    the cheapest (released cells cost their value) is suppressed, or a margin freed. Cells ≥ 2
    (a two-way cell whose only cycle is itself) take the exact search on the whole graph."""
    contracted = _Contracted(t, comp)
    for i in bad:
        if t.vals[i] >= 2:
            _repair(t, i)
            continue
        r, c = t.r[i], t.c[i]
        while not contracted.joined(r, c):
            found = contracted.cheapest_cycle(c, r)
            if found is not None:
                cells, groups = found
                for cell in cells:
                    t.sup[cell] = True
                contracted.union(groups)
                break
            total_was_free = t.total_free
            node = _free_margin(t, r, c)
            if node is None or t.total_free != total_was_free:
                return  # the sources merged: audit again
            contracted.link(node)


def _classic(t: _Table) -> None:
    """Every line with a released margin holding one suppressed cell gets its smallest released
    cell as a complement (preferring cells whose other line already holds suppressions)."""
    todo = list(range(t.n_nodes - 2))
    while todo:
        node = todo.pop()
        if t.free[node]:
            continue
        cells = t.lines[node]
        if sum(t.sup[i] for i in cells) != 1:
            continue
        released = [i for i in cells if not t.sup[i]]
        if not released:
            continue

        def other(i: int) -> int:
            return t.c[i] if t.r[i] == node else t.r[i]
        best = min(released, key=lambda i: (not any(t.sup[j] for j in t.lines[other(i)]), t.vals[i]))
        t.sup[best] = True
        todo.append(other(best))


def _suppression_pattern(table: RawTable, k: int, complementary: bool = True) -> _Table:
    """Primary suppression, the classic complements, then repairs until the exact audit finds no
    determined cell. Each repair suppresses at least one more cell or margin, so the loop ends; the
    final audit is checked so that an unsafe table is never released."""
    t = _Table(table, k)
    if complementary and any(t.sup):
        _classic(t)
        for _ in range(len(t.vals) + t.n_nodes + 2):
            bad, comp = _audit(t)
            if not bad:
                break
            _repair_round(t, bad, comp)
        if _unsafe(t):
            raise RuntimeError(f"complementary suppression did not converge on {table.family}/{table.scope}")
    return t


def protect(table: RawTable, k: int, *, complementary: bool = True) -> ReleasedTable:
    """The released form of ``table``: inner cells and margins, every cell under ``k`` suppressed,
    and enough others (complementary suppression) that no suppressed cell can be solved back from
    the released cells and margins.

    ``complementary=False`` is for a table of differentially private counts (`dp.add_noise`):
    solving one back gives a noisy value, which the mechanism already protects (post-processing),
    so only the cells and margins under ``k`` are left out, as noise rather than information; the
    complementary search (minutes on a day's noisy OD tables) would protect nothing more."""
    t = _suppression_pattern(table, k, complementary)
    amounts = table.amounts
    money = amounts is not None
    cells: list[Cell] = []
    for i, (row, col) in enumerate(t.keys):
        hidden = t.sup[i]
        amount = (amounts.get((row, col), 0) if money else None)
        cells.append(Cell(row, col, None if hidden else t.vals[i], None if hidden or not money else amount))

    def margin(row: str, col: str, idx: list[int], free: bool) -> Cell:
        count = sum(t.vals[i] for i in idx)
        amount = sum(amounts.get(t.keys[i], 0) for i in idx) if money else None
        return Cell(row, col, None if free else count, None if free else amount)

    if not t.one_dim:
        for n, row in enumerate(t.rows):
            cells.append(margin(row, ALL, t.lines[n], t.free[n]))
        for j, col in enumerate(t.cols):
            n = len(t.rows) + j
            cells.append(margin(ALL, col, t.lines[n], t.free[n]))
    cells.append(margin(ALL, ALL, list(range(len(t.vals))), t.total_free))
    return ReleasedTable(table.family, table.scope, tuple(cells), table.authority_ids, table.network_ids)


def combine_days(days: Sequence[ReleasedTable]) -> ReleasedTable:
    """A month's table from its released days (same family and scope): each cell is the sum of
    the released day cells, ``parts_suppressed`` counting those left out; nothing that the days
    did not release enters it, so a month reveals nothing new (it is a function of released
    values only: post-processing)."""
    if not days:
        raise ValueError("combine_days needs at least one day")
    order: dict[tuple[str, str], list[Cell]] = {}
    for day in days:
        if (day.family, day.scope) != (days[0].family, days[0].scope):
            raise ValueError("combine_days: days of different tables")
        for cell in day.cells:
            order.setdefault((cell.row, cell.col), []).append(cell)
    cells = []
    for (row, col), parts in order.items():
        shown = [p for p in parts if p.count is not None]
        hidden = len(parts) - len(shown)
        if not shown:
            cells.append(Cell(row, col, None, None, hidden))
            continue
        amounts = [p.amount for p in shown if p.amount is not None]
        cells.append(Cell(row, col, sum(p.count for p in shown), sum(amounts) if amounts else None, hidden))
    authorities = tuple(dict.fromkeys(a for d in days for a in d.authority_ids))
    networks = tuple(dict.fromkeys(n for d in days for n in d.network_ids))
    return ReleasedTable(days[0].family, days[0].scope, tuple(cells), authorities, networks)
