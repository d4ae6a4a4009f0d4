"""Carpoolers' identity as the proof register takes it (pure): the truncated phone and the identity key.

OùRA never stores a carpooler's phone number: it keeps what the register asks for, computed when
the number is given (a booking, a published journey), and the number is forgotten.

- ``phone_trunc``: the E.164 number without its last two digits (``+33601020304`` -> ``+336010203``).
- ``identity_key``: ``sha256("{phone}-{LAST NAME}")`` in hex, the last name in capitals without
  accents, hyphens or apostrophes (``D'Hérûg-de-l'Hérault`` -> ``D HERUG DE L HERAULT``), as the
  register's v3.3 document defines it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["normalise_phone", "phone_trunc", "identity_key", "register_last_name"]

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def normalise_phone(phone: str) -> str:
    """An E.164 number from what a traveller typed (spaces, dots, a French 0 prefix), or ValueError."""
    compact = re.sub(r"[\s.\-()]", "", phone)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("0") and len(compact) == 10:
        compact = "+33" + compact[1:]
    if not _E164.match(compact):
        raise ValueError("not a phone number in E.164 (+33601020304) or French (06 01 02 03 04) form")
    return compact


def phone_trunc(phone: str) -> str:
    return normalise_phone(phone)[:-2]


def register_last_name(last_name: str) -> str:
    """``D'Hérûg-de-l'Hérault`` -> ``D HERUG DE L HERAULT`` (the register's ``[A-Z ]*``)."""
    decomposed = unicodedata.normalize("NFKD", last_name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return re.sub(r"[^A-Z ]", " ", letters.replace("-", " ").replace("'", " ")).strip()


def identity_key(phone: str, last_name: str) -> str:
    return hashlib.sha256(f"{normalise_phone(phone)}-{register_last_name(last_name)}".encode()).hexdigest()
