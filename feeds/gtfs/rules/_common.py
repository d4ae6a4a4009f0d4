"""Vectorised helpers shared by the rules (private to `feeds.gtfs.rules`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from feeds.gtfs.issues import Issue, IssueCode, Severity
from feeds.gtfs.reader import GtfsTables


# column array id -> (the array, (codes, uniques)); set only while `shared_factorizations` is active
_FACTORIZATIONS: ContextVar[dict[int, tuple[object, tuple[np.ndarray, np.ndarray]]] | None] = ContextVar(
    "feeds_rule_factorizations", default=None
)


@contextmanager
def shared_factorizations() -> Iterator[None]:
    """Let every rule run inside reuse the factorization of a column (stop_times.trip_id is needed
    by five rules; factorizing 10M strings once instead of five times is most of validation)."""
    token = _FACTORIZATIONS.set({})
    try:
        yield
    finally:
        _FACTORIZATIONS.reset(token)


def factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of a column's values (NaN sentinel -1), cached during a validation run."""
    cache = _FACTORIZATIONS.get()
    array = series.array
    if cache is not None:
        hit = cache.get(id(array))
        if hit is not None and hit[0] is array:
            return hit[1]
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    result = (codes, np.asarray(uniques, dtype=object))
    if cache is not None:
        cache[id(array)] = (array, result)  # holding the array keeps its id from being reused
    return result


def file_name(stem: str) -> str:
    return f"{stem}.txt"


def blank(series: pd.Series) -> np.ndarray:
    """True where the cell is empty or whitespace only (decided once per distinct value)."""
    codes, uniques = factorize(series)
    if len(uniques) == 0:
        return np.ones(len(codes), dtype=bool)
    empty = np.fromiter((not str(u).strip() for u in uniques), dtype=bool, count=len(uniques))
    return np.where(codes >= 0, empty[np.maximum(codes, 0)], True)


def to_numbers(series: pd.Series) -> np.ndarray:
    """Numeric cells -> float64 (NaN when empty or not a number), parsed once per distinct value."""
    codes, uniques = factorize(series)
    if len(uniques) == 0:
        return np.full(len(codes), np.nan)
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object).str.strip(), errors="coerce").to_numpy(
        dtype=np.float64
    )
    return np.where(codes >= 0, numbers[np.maximum(codes, 0)], np.nan)


def known_values(tables: GtfsTables, sources: Iterable[tuple[str, str]]) -> pd.Index:
    """Union of the non-empty values of the given (file, column) pairs."""
    parts = [
        tables.get(stem)[column].to_numpy(dtype=object)
        for stem, column in sources
        if tables.column(stem, column) is not None
    ]
    if not parts:
        return pd.Index([], dtype=object)
    return pd.Index(np.concatenate(parts)).unique()


def not_in(series: pd.Series, known: pd.Index) -> np.ndarray:
    """True where the cell is non-empty and absent from ``known`` (one lookup per distinct value)."""
    codes, uniques = factorize(series)
    if len(uniques) == 0:
        return np.zeros(len(codes), dtype=bool)
    unique_index = pd.Index(uniques)
    missing = ~unique_index.isin(known) & np.fromiter(
        (bool(str(u).strip()) for u in uniques), dtype=bool, count=len(uniques)
    )
    return np.where(codes >= 0, missing[np.maximum(codes, 0)], False)


def summary_issue(
    frame: pd.DataFrame,
    mask: np.ndarray,
    *,
    code: IssueCode,
    severity: Severity,
    file: str,
    field: str | None,
    entity_column: str | None,
    message: str,
) -> list[Issue]:
    """One issue standing for every selected row (for facts, not per-row defects)."""
    selected = np.flatnonzero(mask)
    if len(selected) == 0:
        return []
    first = selected[0]
    value = frame[field].iloc[first] if field and field in frame.columns else None
    entity = frame[entity_column].iloc[first] if entity_column and entity_column in frame.columns else None
    return [
        Issue(
            code=code,
            severity=severity,
            file=file,
            row=int(frame.index[first]) + 2,
            entity_id=None if entity is None else str(entity),
            field=field,
            value=None if value is None else str(value),
            message=message,
            count=len(selected),
        )
    ]
