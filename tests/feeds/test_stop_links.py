"""find_stop_links built block by block: the same pairs as a brute-force reference, the k-nearest
rule and the station rule."""

from __future__ import annotations

import numpy as np
import pytest

from feeds.stop_links import find_stop_links


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def reference(lats, lons, max_m, *, nearest=None, parents=None, lines=None):
    """Brute force over every pair: {(a, b): distance}. ``lines``: stop -> set of line ids."""
    n = len(lats)
    dist = {(i, j): float(haversine_m(lats[i], lons[i], lats[j], lons[j])) for i in range(n) for j in range(n) if i != j}
    within = {p: d for p, d in dist.items() if d <= max_m}
    if nearest is not None:
        ranked = {i: sorted((d, j) for (a, j), d in within.items() if a == i) for i in range(n)}
        knn = {(i, j) for i, row in ranked.items() for _, j in row[:nearest]}
        for i, row in (ranked.items() if lines is not None else ()):
            seen = set()
            for _, j in row:
                if lines[j] - seen:
                    knn.add((i, j))
                seen |= lines[j]
        within = {p: d for p, d in within.items() if p in knn or (p[1], p[0]) in knn}
    if parents is not None:
        within.update({p: (d if np.isfinite(d) else 0.0) for p, d in dist.items()
                       if parents[p[0]] != "" and parents[p[0]] == parents[p[1]]})
    return within


def as_dict(links):
    return {(int(a), int(b)): float(d) for a, b, d in zip(links.from_idx, links.to_idx, links.distance_m)}


@pytest.fixture
def dense_town():
    rng = np.random.default_rng(7)
    # a dense centre (many pairs within the radius) and sparse suburbs
    lats = np.concatenate([45.760 + rng.random(150) * 0.004, 45.74 + rng.random(100) * 0.05])
    lons = np.concatenate([4.850 + rng.random(150) * 0.006, 4.80 + rng.random(100) * 0.07])
    parents = np.array([""] * 250, dtype=object)
    parents[[3, 160, 240]] = "gare"  # one station, platforms far apart
    parents[[10, 11]] = "arret"
    return lats, lons, parents


@pytest.mark.parametrize("block_pairs", [1, 97, 1 << 22])
def test_every_block_size_gives_the_brute_force_pairs(dense_town, block_pairs):
    lats, lons, parents = dense_town
    links = find_stop_links([str(i) for i in range(250)], lats, lons, max_distance_m=300,
                            parent_station=parents, block_pairs=block_pairs)
    got, expected = as_dict(links), reference(lats, lons, 300, parents=parents)
    assert got.keys() == expected.keys()
    assert all(abs(got[p] - expected[p]) < 1e-6 for p in got)
    assert len(links) == len(got), "each pair once"


@pytest.mark.parametrize("nearest", [1, 3, 8])
def test_nearest_keeps_the_k_nearest_of_either_end_and_the_station(dense_town, nearest):
    lats, lons, parents = dense_town
    links = find_stop_links([str(i) for i in range(250)], lats, lons, max_distance_m=300,
                            parent_station=parents, nearest=nearest, block_pairs=97)
    got = as_dict(links)
    assert got.keys() == reference(lats, lons, 300, nearest=nearest, parents=parents).keys()
    assert len(links) == len(got)
    assert all((b, a) in got for a, b in got), "walks go both ways"
    assert len(got) < len(reference(lats, lons, 300)), "the centre has more pairs in the radius than kept"
    # the station's platforms stay linked whatever their distance and rank
    assert {(3, 160), (160, 240), (240, 3), (10, 11), (11, 10)} <= got.keys()


def test_lines_keep_each_lines_nearest_stop_beyond_the_k_nearest(dense_town):
    lats, lons, parents = dense_town
    rng = np.random.default_rng(11)
    lines = [set(rng.choice(12, int(rng.integers(0, 3)), replace=False).tolist()) for _ in range(250)]
    offsets = np.r_[0, np.cumsum([len(s) for s in lines])]
    ids = np.array([x for s in lines for x in sorted(s)], dtype=np.int64)
    links = find_stop_links([str(i) for i in range(250)], lats, lons, max_distance_m=300, parent_station=parents,
                            nearest=2, lines=(offsets, ids), block_pairs=97)
    got = as_dict(links)
    expected = reference(lats, lons, 300, nearest=2, parents=parents, lines=lines)
    assert got.keys() == expected.keys()
    assert len(got) > len(reference(lats, lons, 300, nearest=2, parents=parents)), "lines add pairs"


def test_stops_no_line_calls_at_keep_the_k_nearest_only(dense_town):
    lats, lons, _ = dense_town
    no_lines = (np.zeros(251, dtype=np.int64), np.zeros(0, dtype=np.int64))  # a feed of flex trips only
    links = find_stop_links([str(i) for i in range(250)], lats, lons, max_distance_m=300, nearest=2, lines=no_lines)
    assert as_dict(links).keys() == reference(lats, lons, 300, nearest=2).keys()


def test_links_sorted_by_origin_then_distance_and_stops_without_coordinates(dense_town):
    lats, lons, parents = dense_town
    lats = lats.copy()
    lats[240] = np.nan  # a platform without coordinates: linked to its station only, 0 m
    links = find_stop_links([str(i) for i in range(250)], lats, lons, max_distance_m=300,
                            parent_station=parents, nearest=4)
    key = links.from_idx.astype(np.int64) * 10**9 + np.round(links.distance_m * 1000)
    assert np.all(np.diff(key) >= 0)
    got = as_dict(links)
    assert {p for p in got if 240 in p} == {(240, 3), (3, 240), (240, 160), (160, 240)}
    assert got[(240, 3)] == 0.0
    assert np.array_equal(links.duration_s, np.ceil(links.distance_m / 1.2).astype(np.int32))


def test_nearest_must_be_positive():
    with pytest.raises(ValueError):
        find_stop_links(["a", "b"], [45.0, 45.001], [4.0, 4.0], nearest=0)
