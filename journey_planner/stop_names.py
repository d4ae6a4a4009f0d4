"""Stop names as search compares them: folded, split into words, abbreviations spelt out.

"St-Étienne Châteaucreux", "saint etienne chateaucreux" and "ST ETIENNE" all become the words
``saint etienne chateaucreux``. Publishers and travellers abbreviate the same few words (French
street and place vocabulary, as in the demo region and the real feeds of the region), so both
the names and the query go through the same table; "station" and "gare" are one word.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ABBREVIATIONS", "fold_text", "canonical_words"]

# folded word -> the word it stands for (both sides folded: lower case, no accents)
ABBREVIATIONS: dict[str, str] = {
    "st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes",
    "station": "gare", "stn": "gare", "gares": "gare",
    "pl": "place", "pce": "place",
    "av": "avenue", "ave": "avenue", "avn": "avenue",
    "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard", "boul": "boulevard",
    "ch": "chemin", "chem": "chemin",
    "rte": "route", "imp": "impasse", "crs": "cours", "qu": "quai", "sq": "square",
    "fg": "faubourg", "fbg": "faubourg", "pte": "porte", "prom": "promenade", "res": "residence",
    "all": "allee", "esp": "esplanade", "rpt": "rond point",
    "gal": "general", "gen": "general", "mal": "marechal", "pdt": "president", "pres": "president",
    "cdt": "commandant", "lt": "lieutenant", "dr": "docteur", "pr": "professeur",
    "hop": "hopital", "univ": "universite", "ctre": "centre", "cc": "centre commercial",
    "ccial": "commercial", "cial": "commercial", "zi": "zone industrielle", "za": "zone artisanale",
    "nd": "notre dame", "mt": "mont", "gd": "grand", "gde": "grande", "gr": "gare routiere",
}


def fold_text(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def canonical_words(text: str) -> list[str]:
    """The folded words of ``text`` with abbreviations spelt out ("Pl. St-Jean" -> place saint jean)."""
    words: list[str] = []
    for word in fold_text(text).split():
        words.extend(ABBREVIATIONS.get(word, word).split())
    return words
