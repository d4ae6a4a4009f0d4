"""Stop search, the use case behind ``GET /v1/stops``: by name, or nearest to a point.

Names and queries are compared as canonical words (`stop_names`: folded accents and case,
abbreviations spelt out, so "st etienne" is "saint etienne"). Each query word matches the words
of the names' vocabulary exactly, as a prefix (typing), or within one or two edits (rapidfuzz's
optimal-string-alignment distance over the whole vocabulary at once: "grenobel" is "grenoble").
Words run together or split apart are respelt as the vocabulary has them ("saintetienne",
"chateau creux"). A name matches when every query word does (else, with two words or more, all
but one, at a cost); its text score is the mean of its words' scores
(exact 100, prefix 80-95, one edit 84, two edits 76, a typo in a prefix 72) with small bonuses
for a name that starts with the query or is the query, and a small cost per word the query does
not mention. Stops are ranked by text score plus importance, ``6 * log10(1 + departures per
day)``, so among equally good matches the busy station comes first. Hubs (interchanges across
networks) come before stops when one of their member stations matches about as well as the best.

`StopSearchIndex` is built once per network (`PlannerService.lookups_for`): the vocabulary and
its postings, departures per day and lines served per stop (numpy over the timetable's arrays),
and which names several places share (told apart in ``label`` by network, then by parent station
or lines).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from oura.http import schema_ref
from oura.http.schemas import NUMBER, STRING, array_of, nullable, object_of

from .compile import Network
from .hubs import HubIndex
from .mapping import NO_OVERLAY, Mapper, route_mode
from .places import distances_m
from .snapshot import Snapshot
from .stop_names import expand_words, fold_many, fold_text

if TYPE_CHECKING:
    from .service import PlannerService

__all__ = ["StopSearchIndex", "fold_text", "find_stops", "search_stops", "STOP_SEARCH_COMPONENTS"]

MAX_QUERY_WORDS = 8  # longer queries keep their first 8 words
IMPORTANCE_WEIGHT = 6.0  # score points per decade of departures per day
HUB_MARGIN = 12.0  # a hub is listed when its best member's text score is within this of the best
_EXACT, _ONE_EDIT, _TWO_EDITS, _PREFIX_TYPO = 100.0, 84.0, 76.0, 72.0


def _csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets [n+1], values grouped by key, in key order, stable inside a key)."""
    order = np.argsort(keys, kind="stable")
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=offsets[1:])
    return offsets, values[order]


def _gather(offsets: np.ndarray, values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CSR values of ``keys``, and for each the position in ``keys`` it came from."""
    starts, ends = offsets[keys], offsets[keys + 1]
    lengths = ends - starts
    which = np.repeat(np.arange(keys.size), lengths)
    inner = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return values[starts[which] + inner], which


def departures_per_day(network: Network) -> np.ndarray:
    """StopIdx -> mean departures per service day of the timetable (a station: its platforms')."""
    tt = network.timetable
    n_stops = tt.stop_count
    days = max(tt.day_count, 1)
    if tt.trip_count == 0 or tt.service_days.size == 0:
        return np.zeros(n_stops)
    runs = tt.service_days.sum(axis=1, dtype=np.int64) / days  # service -> mean runs per day
    per_pattern = np.bincount(tt.trip_pattern, weights=runs[tt.trip_service], minlength=tt.pattern_count)
    entry_stop = np.repeat(np.arange(n_stops), np.diff(tt.stop_pattern_offsets))
    pattern = tt.stop_pattern_pattern
    boards = tt.stop_pattern_pos < np.diff(tt.pattern_stop_offsets)[pattern] - 1  # the last stop has no departure
    dep = np.bincount(entry_stop[boards], weights=per_pattern[pattern[boards]], minlength=n_stops)
    children = np.flatnonzero(tt.stop_parent >= 0)
    np.add.at(dep, tt.stop_parent[children], dep[children])
    return dep


def lines_served(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """StopIdx -> RouteIdx serving it (a station: its platforms'), as CSR (offsets, routes)."""
    tt = network.timetable
    n_stops, n_routes = tt.stop_count, max(int(network.route_ids.size), 1)
    entry_stop = np.repeat(np.arange(n_stops, dtype=np.int64), np.diff(tt.stop_pattern_offsets))
    route = tt.pattern_route[tt.stop_pattern_pattern].astype(np.int64)
    parent = tt.stop_parent[entry_stop]
    has_parent = parent >= 0
    stop = np.concatenate([entry_stop, parent[has_parent].astype(np.int64)])
    route = np.concatenate([route, route[has_parent]])
    keys = np.unique(stop * n_routes + route)
    offsets = np.zeros(n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // n_routes, minlength=n_stops), out=offsets[1:])
    return offsets, (keys % n_routes).astype(np.int32)


def _homonyms(network: Network, stop_name: np.ndarray, n_names: int) -> np.ndarray:
    """StopIdx -> 0 its name is one place's, 1 other networks have a place of that name, 2 its own
    network has another too. A place is a station with its platforms, or a stop without one."""
    tt = network.timetable
    place = np.where(tt.stop_parent >= 0, tt.stop_parent, np.arange(tt.stop_count)).astype(np.int64)
    n = max(tt.stop_count, 1)
    named = np.unique(stop_name.astype(np.int64) * n + place)
    per_name = np.bincount(named // n, minlength=n_names)
    feeds = max(len(network.feed_ids), 1)
    name_feed = stop_name.astype(np.int64) * feeds + network.stop_feed.astype(np.int64)
    pairs, pair_of_stop = np.unique(name_feed, return_inverse=True)
    in_feed = np.unique(pair_of_stop.astype(np.int64) * n + place) // n
    per_pair = np.bincount(in_feed, minlength=pairs.size)
    out = np.where(per_name[stop_name] > 1, 1, 0).astype(np.int8)
    out[per_pair[pair_of_stop] > 1] = 2
    return out


@dataclass(frozen=True, eq=False)
class StopSearchIndex:
    """What search reads, built once per network. Names are canonical (`canonical_words` joined)."""

    vocabulary: list[str]  # word id -> canonical word, sorted (prefixes are ranges)
    word_lengths: np.ndarray  # word id -> number of letters (int32)
    word_name_offsets: np.ndarray  # word id -> start in word_names, CSR (int64 [W+1])
    word_names: np.ndarray  # CSR values -> name ids containing the word (int32)
    name_texts: list[str]  # name id -> canonical name
    name_word_count: np.ndarray  # name id -> number of words (int32)
    name_first_word: np.ndarray  # name id -> word id of its first word, -1 for an empty name (int32)
    name_stop_offsets: np.ndarray  # name id -> start in name_stops, CSR (int64 [N+1])
    name_stops: np.ndarray  # CSR values -> StopIdx with that name (int32)
    stop_name: np.ndarray  # StopIdx -> name id (int32)
    departures_per_day: np.ndarray  # StopIdx -> mean departures per day (float64)
    line_offsets: np.ndarray  # StopIdx -> start in line_routes, CSR (int64 [S+1])
    line_routes: np.ndarray  # CSR values -> RouteIdx serving the stop (int32)
    homonyms: np.ndarray  # StopIdx -> 0 unique name, 1 shared with other networks, 2 within its own (int8)
    _prefix_vocabularies: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @staticmethod
    def of(network: Network) -> StopSearchIndex:
        raw_names = list(dict.fromkeys(str(n) for n in network.stop_names.tolist()))
        canonical = {raw: " ".join(expand_words(folded)) for raw, folded in zip(raw_names, fold_many(raw_names), strict=True)}
        names, stop_name = np.unique(np.array([canonical[str(r)] for r in network.stop_names.tolist()], dtype=object),
                                     return_inverse=True)
        stop_name = stop_name.astype(np.int32)
        name_texts = [str(n) for n in names.tolist()]
        split = [n.split() for n in name_texts]
        vocabulary = sorted({w for words in split for w in words})
        word_id = {w: i for i, w in enumerate(vocabulary)}
        pair_name = np.array([i for i, words in enumerate(split) for _ in set(words)], dtype=np.int32)
        pair_word = np.array([word_id[w] for words in split for w in set(words)], dtype=np.int64)
        word_name_offsets, word_names = _csr(pair_word, pair_name, len(vocabulary))
        name_stop_offsets, name_stops = _csr(stop_name.astype(np.int64), np.arange(stop_name.size, dtype=np.int32),
                                             len(name_texts))
        line_offsets, line_routes = lines_served(network)
        return StopSearchIndex(
            vocabulary, np.array([len(w) for w in vocabulary], dtype=np.int32), word_name_offsets, word_names, name_texts,
            np.array([len(words) for words in split], dtype=np.int32),
            np.array([word_id[words[0]] if words else -1 for words in split], dtype=np.int32),
            name_stop_offsets, name_stops, stop_name, departures_per_day(network),
            line_offsets, line_routes, _homonyms(network, stop_name, len(name_texts)),
        )

    # --- words -----------------------------------------------------------------------------
    def _prefix_vocabulary(self, length: int) -> list[str]:
        found = self._prefix_vocabularies.get(length)
        if found is None:
            found = [w[:length] for w in self.vocabulary]
            self._prefix_vocabularies[length] = found
        return found

    def word_scores(self, word: str, typed: str) -> np.ndarray:
        """Word id -> how well the query word matches it (0: not at all). ``word`` is canonical,
        ``typed`` as typed (folded): "st" also stays a prefix of "stade"."""
        scores = np.zeros(len(self.vocabulary), dtype=np.float32)
        n = len(word)
        if n >= 4:  # typos: one edit up to 7 letters, two beyond, on the word or (5+) on a prefix of it
            edits = 1 if n <= 7 else 2
            if n >= 5:
                prefix_d = process.cdist([word], self._prefix_vocabulary(n), scorer=OSA.distance,
                                         score_cutoff=edits, dtype=np.int32)[0]
                scores[(prefix_d <= edits) & (self.word_lengths > n)] = _PREFIX_TYPO
            d = process.cdist([word], self.vocabulary, scorer=OSA.distance, score_cutoff=edits, dtype=np.int32)[0]
            scores[d == 1] = _ONE_EDIT  # (cdist gives edits + 1 beyond the cutoff)
            if edits == 2:
                scores[d == 2] = np.maximum(scores[d == 2], _TWO_EDITS)
        for form in {word, typed}:
            lo = bisect.bisect_left(self.vocabulary, form)
            hi = bisect.bisect_left(self.vocabulary, form + "\x7f", lo)
            # prefixes: the longer the typed part, the surer
            prefix = 80.0 + 15.0 * len(form) / self.word_lengths[lo:hi]
            scores[lo:hi] = np.maximum(scores[lo:hi], prefix)
        exact = bisect.bisect_left(self.vocabulary, word)
        if exact < len(self.vocabulary) and self.vocabulary[exact] == word:
            scores[exact] = _EXACT
        return scores

    # --- names -----------------------------------------------------------------------------
    def match_names(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(name ids, text scores) of the names matching ``query``, best first."""
        typed = fold_text(query).split()[:MAX_QUERY_WORDS]
        words = self._respell([(w, t) for t in typed for w in expand_words(t)])[:MAX_QUERY_WORDS]
        if not words:
            return np.zeros(0, np.int32), np.zeros(0)
        n_names = len(self.name_texts)
        best = np.zeros((len(words), n_names), dtype=np.float32)  # query word x name -> best word score
        first_hit = np.zeros(n_names, dtype=bool)
        for k, (word, form) in enumerate(words):
            scores = self.word_scores(word, form)
            matched = np.flatnonzero(scores)
            names, which = _gather(self.word_name_offsets, self.word_names, matched)
            np.maximum.at(best[k], names, scores[matched[which]])
            if k == 0:
                first = self.name_first_word
                first_hit = (first >= 0) & (scores[np.maximum(first, 0)] > 0)
        hits = (best > 0).sum(axis=0)
        needed, cost = len(words), 0.0
        found = np.flatnonzero(hits == needed)
        if not found.size and len(words) >= 2:  # one word that matches nothing: drop it
            needed, cost = len(words) - 1, 20.0
            found = np.flatnonzero(hits == needed)
        text = best.sum(axis=0) / needed - cost + 4.0 * first_hit
        text += 3.0 * ((self.name_word_count == len(words)) & (best == _EXACT).all(axis=0))
        text -= 1.0 * np.clip(self.name_word_count - needed, 0, 6)
        if not found.size:
            return np.zeros(0, np.int32), np.zeros(0)
        order = np.argsort(-text[found], kind="stable")
        return found[order].astype(np.int32), text[found][order].astype(np.float64)

    def _known(self, word: str) -> bool:
        i = bisect.bisect_left(self.vocabulary, word)
        return i < len(self.vocabulary) and self.vocabulary[i] == word

    def _respell(self, words: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Query words run together ("saintetienne") or split apart ("chateau creux") as the
        vocabulary has them; (canonical, typed) pairs as `word_scores` takes them."""
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(words):
            word = words[i][0]
            if i + 1 < len(words) and not (self._known(word) and self._known(words[i + 1][0])):
                joined = word + words[i + 1][0]
                if self._known(joined):
                    out.append((joined, joined))
                    i += 2
                    continue
            cut = None
            if len(word) >= 6 and not self._known(word):
                cut = next((c for c in range(2, len(word) - 1)
                            if self._known(word[:c]) and self._known(word[c:])), None)
            out.extend([(word[:cut], word[:cut]), (word[cut:], word[cut:])] if cut else [words[i]])
            i += 1
        return out

    # --- stops -----------------------------------------------------------------------------
    def importance(self, stops: np.ndarray) -> np.ndarray:
        return IMPORTANCE_WEIGHT * np.log10(1.0 + self.departures_per_day[stops])

    def rank_stops(self, network: Network, query: str,
                   limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(StopIdx best first, their scores, name id -> text score or -inf); the best ``limit``
        only when given. A station's platforms are left out when the station itself matches."""
        names, text = self.match_names(query)
        name_text = np.full(len(self.name_texts), -np.inf)
        name_text[names] = text
        if not names.size:
            return np.zeros(0, np.int32), np.zeros(0), name_text
        stops, which = _gather(self.name_stop_offsets, self.name_stops, names)
        score = text[which] + self.importance(stops) + 0.5 * network.stop_is_station[stops]
        parent = network.timetable.stop_parent[stops]
        listed = np.zeros(network.timetable.stop_count, dtype=bool)
        listed[stops] = True
        keep = (parent < 0) | ~listed[np.maximum(parent, 0)]
        stops, score = stops[keep], score[keep]
        if limit is not None and stops.size > limit:  # a letter or two match thousands: sort the best only
            best = np.argpartition(-score, limit - 1)[:limit]
            stops, score = stops[best], score[best]
        order = np.lexsort((stops, -score))
        return stops[order], score[order], name_text


def find_stops(network: Network, query: str, index: StopSearchIndex | None = None, limit: int = 20) -> list[int]:
    """The StopIdx matching ``query``, best first (see the module's ranking)."""
    stops, _, _ = (index or StopSearchIndex.of(network)).rank_stops(network, query, limit)
    return stops.tolist()


_MODE_ORDER = {"rail": 0, "metro": 1, "tram": 2, "cable_tram": 3, "bus": 5, "coach": 6}


def _line_key(line: dict) -> tuple:
    name = line["short_name"]
    return (_MODE_ORDER.get(line["mode"], 4), len(name) if name.isdigit() else 0, name, line["id"])


@dataclass(frozen=True)
class _Renderer:
    """`StopMatch` items of one network."""

    network: Network
    index: StopSearchIndex
    hubs: HubIndex

    def lines(self, stops: np.ndarray) -> list[dict]:
        net = self.network
        offsets, routes = self.index.line_offsets, self.index.line_routes
        if stops.size == 1:  # a stop's routes are unique already
            served = routes[offsets[stops[0]]:offsets[stops[0] + 1]].tolist()
        else:
            served = np.unique(_gather(offsets, routes, stops.astype(np.int64))[0]).tolist()
        lines = []
        for r in served:
            color, text_color = str(net.route_colors[r]), str(net.route_text_colors[r])
            lines.append({
                "id": str(net.route_ids[r]),
                "short_name": str(net.route_short_names[r] or net.route_long_names[r]),
                "mode": route_mode(int(net.route_types[r])),
                "color": f"#{color}" if color else None,
                "text_color": f"#{text_color}" if text_color else None,
            })
        return sorted(lines, key=_line_key)

    def disambiguation(self, s: int, lines: list[dict]) -> str | None:
        net = self.network
        level = int(self.index.homonyms[s])
        if level == 0:
            return None
        feed = net.feed_ids[int(net.stop_feed[s])]
        if level == 1:
            return feed
        parent = int(net.timetable.stop_parent[s])
        if parent >= 0 and fold_text(str(net.stop_names[parent])) != fold_text(str(net.stop_names[s])):
            return f"{feed}, {net.stop_names[parent]}"
        if lines:
            return f"{feed}, " + ("line " if len(lines) == 1 else "lines ") + ", ".join(l["short_name"] for l in lines[:6])
        return f"{feed}, {net.stop_ids[s]}"

    def stop(self, s: int) -> dict:
        net, tt = self.network, self.network.timetable
        lines = self.lines(np.array([s]))
        other = self.disambiguation(s, lines)
        name = str(net.stop_names[s])
        feed = net.feed_ids[int(net.stop_feed[s])]
        return Mapper(net, NO_OVERLAY, False).stop_json(s) | {
            "location_type": "station" if net.stop_is_station[s] else "stop",
            "parent_station": str(net.stop_ids[tt.stop_parent[s]]) if tt.stop_parent[s] >= 0 else None,
            "network": feed,
            "networks": [feed],
            "label": f"{name} ({other})" if other else name,
            "disambiguation": other,
            "lines": lines,
            "departures_per_day": round(float(self.index.departures_per_day[s]), 1),
            "hub": self.hubs.hub_of_stop.get(s),
            "members": None,
        }

    def hub(self, hub_id: str) -> dict:
        net, tt = self.network, self.network.timetable
        members = self.hubs.members_by_hub[hub_id]
        feeds = sorted({net.feed_ids[int(f)] for f in net.stop_feed[members]})
        name = self.hubs.names[hub_id]
        return {
            "id": hub_id,
            "name": name,
            "lat": float(tt.stop_lat[members].mean()),
            "lon": float(tt.stop_lon[members].mean()),
            "wheelchair_accessible": bool(tt.stop_accessible[self.hubs.stops_by_hub[hub_id]].any()),
            "location_type": "hub",
            "parent_station": None,
            "network": None,
            "networks": feeds,
            "label": f"{name} ({', '.join(feeds)})",
            "disambiguation": ", ".join(feeds),
            "lines": self.lines(members),
            "departures_per_day": round(float(self.index.departures_per_day[members].sum()), 1),
            "hub": hub_id,
            "members": [{"id": str(net.stop_ids[m]), "name": str(net.stop_names[m]),
                         "network": net.feed_ids[int(net.stop_feed[m])],
                         "location_type": "station" if net.stop_is_station[m] else "stop"} for m in members.tolist()],
        }


def _ranked_hubs(index: StopSearchIndex, hubs: HubIndex, name_text: np.ndarray, limit: int) -> list[str]:
    """The interchange hubs a member of which matches within `HUB_MARGIN` of the best match, best
    first (a hub of one network's stops is a journey place, but adds nothing to a list of stops)."""
    if not hubs.hub_ids or not name_text.size or not np.isfinite(name_text).any():
        return []
    text = np.full(len(hubs.hub_ids), -np.inf)
    np.maximum.at(text, hubs.member_hub, name_text[index.stop_name[hubs.member_stop]])
    departures = np.bincount(hubs.member_hub, weights=index.departures_per_day[hubs.member_stop],
                             minlength=len(hubs.hub_ids))
    listed = np.flatnonzero(hubs.hub_interchange & (text >= np.max(name_text) - HUB_MARGIN))
    score = text[listed] + IMPORTANCE_WEIGHT * np.log10(1.0 + departures[listed])
    return [hubs.hub_ids[h] for h in listed[np.lexsort((listed, -score))][:limit]]


def search_stops(service: PlannerService, snapshot: Snapshot, q: str | None,
                 near: tuple[float, float] | None, limit: int) -> list[dict]:
    """The `StopMatch` items of ``GET /v1/stops``: matching hubs first, then stops, best first
    (with ``near`` too: the best matches, nearest first; ``near`` alone: the nearest stops)."""
    network = snapshot.static
    lookups = service.lookups_for(network)
    render = _Renderer(network, lookups.search, lookups.hubs)
    tt = network.timetable
    hub_ids: list[str] = []
    dist = None
    if q:
        stops, _, name_text = lookups.search.rank_stops(network, q, limit * 5 if near else limit)
        hub_ids = _ranked_hubs(lookups.search, lookups.hubs, name_text, max(1, limit // 4))
        hits = stops.tolist()
        if near is not None and hits:
            d = distances_m(tt.stop_lat[hits], tt.stop_lon[hits], *near)
            hits = [hits[i] for i in np.argsort(d, kind="stable")]
    elif near is not None:
        found, dist_m = lookups.spatial.list_within(near[0], near[1], service.walk_radius_m * 2, limit)
        hits, dist = found.tolist(), dist_m.tolist()
    else:
        return []
    out = [render.hub(h) for h in hub_ids]
    if near is not None:
        for item in out:
            item["distance_m"] = _distance_m(item, near)
        out.sort(key=lambda item: item["distance_m"])
    for i, s in enumerate(hits[: limit - len(out)]):
        item = render.stop(s)
        if near is not None:
            item["distance_m"] = round(float(dist[i]), 1) if dist is not None else _distance_m(item, near)
        out.append(item)
    return out


def _distance_m(item: dict, near: tuple[float, float]) -> float:
    return round(float(distances_m(np.array([item["lat"]]), np.array([item["lon"]]), *near)[0]), 1)


_COLOR = nullable({"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"})

STOP_SEARCH_COMPONENTS: dict[str, Any] = {
    "StopLine": object_of({
        "id": {"type": "string", "description": "namespaced route id"},
        "short_name": {"type": "string", "description": "route_short_name (route_long_name when it has none)"},
        "mode": {"type": "string", "description": "bus, tram, metro, rail, ... (from the GTFS route_type)"},
        "color": _COLOR,
        "text_color": _COLOR,
    }, description="a line calling at a stop (rail first, then metro, tram, bus, coach)"),
    "StopMatch": object_of({
        "id": {"type": "string", "description": "namespaced stop id (network:stop_id), or a hub id (hub:...); "
                                                "both are journey places"},
        "name": STRING,
        "lat": NUMBER,
        "lon": NUMBER,
        "wheelchair_accessible": {"type": "boolean", "description": "a hub: one of its stops at least"},
        "location_type": {"enum": ["hub", "station", "stop"]},
        "parent_station": nullable(STRING),
        "network": nullable({"type": "string", "description": "the feed (network) id; null for a hub"}),
        "networks": array_of(STRING, description="the networks of the stop, or of a hub's members"),
        "label": {"type": "string", "description": "the name, told apart from other places of that name: "
                                                   "'name (network)', then parent station or lines"},
        "disambiguation": nullable({"type": "string", "description": "what label adds to the name (null: the name "
                                                                      "is one place's)"}),
        "lines": array_of(schema_ref("StopLine")),
        "departures_per_day": {"type": "number", "minimum": 0,
                               "description": "mean departures per service day (a station or hub: all its stops')"},
        "hub": nullable({"type": "string", "description": "the interchange hub the stop belongs to"}),
        "members": nullable(array_of(object_of({
            "id": STRING, "name": STRING, "network": STRING, "location_type": {"enum": ["station", "stop"]},
        }), description="a hub's stations (null for a stop)")),
        "distance_m": NUMBER,
    }, optional=("distance_m",), description="a hub, stop or station found by name (hubs first, then by match "
                                             "and departures per day) or near a point (distance_m: near only)"),
}
