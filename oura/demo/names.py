"""Plausible French stop and village names, drawn deterministically from a numpy Generator.

Names only have to look right on a departure board and be unique enough within one network for
a human to tell stops apart; they are not meant to match real streets.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StopNamer", "village_name"]

_PEOPLE = (
    "Victor Hugo", "Jean Jaurès", "Pasteur", "Gambetta", "République", "Jean Moulin", "Foch",
    "Clemenceau", "De Gaulle", "Voltaire", "Lamartine", "Émile Zola", "Jules Ferry", "Carnot",
    "Marie Curie", "Pierre Brossolette", "Général Leclerc", "Anatole France", "Paul Bert",
    "Berthelot", "Louis Blanc", "Salengro", "Danton", "Condorcet", "Jean Macé", "Mermoz",
    "Saint-Exupéry", "Lumière", "Ampère", "Jacquard", "Berlioz", "Stendhal", "Rousseau",
    "Marcel Pagnol", "Aristide Briand", "Édouard Herriot", "Joliot-Curie", "Rosa Parks",
    "Simone Veil", "Lucie Aubrac", "Germaine Tillion", "Olympe de Gouges", "Camille Claudel",
    "George Sand", "Jean Zay", "Paul Éluard", "Henri Barbusse", "Frédéric Mistral", "Vaucanson",
    "Montgolfier", "Champollion", "Bayard", "Lesdiguières", "Vercors", "Belledonne", "Chartreuse",
)
_PLACES = (
    "Mairie", "Église", "Les Tilleuls", "Les Acacias", "Le Stade", "La Poste", "Collège",
    "Lycée", "Hôpital", "Cimetière", "Les Érables", "Le Moulin", "La Fontaine", "Le Parc",
    "Les Sorbiers", "Piscine", "Médiathèque", "Le Lavoir", "La Croix", "Le Pont", "Les Vignes",
    "Le Château", "Les Peupliers", "Champ de Foire", "Zone Artisanale", "Gymnase", "Les Cèdres",
    "Le Plateau", "La Gare", "Maison de Santé", "Centre Commercial", "Les Jardins", "Bel Air",
    "Beauregard", "Les Marronniers", "Le Vallon", "La Prairie", "Les Charmilles", "Le Bourg",
    "Les Sablons", "Pré Fleuri", "La Chapelle", "Le Verger", "La Tuilerie", "Les Roches",
)
_KINDS = ("Avenue", "Rue", "Place", "Boulevard", "Cours", "Quai", "Square", "Allée")
_SAINTS = (
    "Martin", "Genis", "Laurent", "Priest", "Didier", "Julien", "Romain", "Jean", "Pierre",
    "Maurice", "Symphorien", "Étienne", "Marcel", "Germain", "Paul", "André", "Just", "Cyr",
    "Vincent", "Clair", "Rambert", "Bonnet", "Georges", "Hilaire", "Sorlin", "Alban",
)
_ROOTS = (
    "Chaponost", "Montagny", "Charly", "Brindas", "Vaugneray", "Chazay", "Civrieux", "Lentilly",
    "Fleurieux", "Savigny", "Ternay", "Chasse", "Sérézin", "Corbas", "Marennes", "Chaponnay",
    "Mions", "Toussieu", "Colombier", "Janneyrias", "Villette", "Chavanoz", "Pusignan",
    "Jonage", "Balan", "Béligneux", "Dagneux", "Bressolles", "Pizay", "Vaux", "Ambronay",
    "Chazey", "Lagnieu", "Sault", "Serrières", "Briord", "Lhuis", "Arandon", "Courtenay",
    "Vézeronce", "Corbelin", "Aoste", "Chimilin", "Romagnieu", "Velanne", "Charancieu",
    "Chirens", "Réaumont", "Coublevie", "Voreppe", "Veurey", "Noyarey", "Sassenage",
    "Seyssins", "Claix", "Varces", "Vif", "Monestier", "Sinard", "Treffort", "Mens",
    "Lalley", "Clelles", "Chichilianne", "Gresse", "Lans", "Autrans", "Méaudre", "Corrençon",
    "Valbonnais", "Allemont", "Oz", "Vaujany", "Livet", "Séchilienne", "Champ", "Notre-Dame",
)
_SUFFIXES = (
    "", "", "", "", "-sur-Isère", "-en-Bresse", "-les-Bains", "-sur-Rhône", "-en-Forez",
    "-d'Azergues", "-le-Haut", "-le-Bas", "-en-Royans", "-sous-Bois", "-de-Chartreuse",
)


def village_name(rng: np.random.Generator) -> str:
    """A village name such as ``Saint-Genis-les-Bains`` or ``Chirens``."""
    if rng.random() < 0.35:
        base = f"Saint-{_SAINTS[rng.integers(len(_SAINTS))]}"
    else:
        base = _ROOTS[rng.integers(len(_ROOTS))]
    return base + _SUFFIXES[rng.integers(len(_SUFFIXES))]


class StopNamer:
    """Hands out stop names that are unique within one network (a numbered suffix at worst)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def _candidate(self) -> str:
        rng = self._rng
        roll = rng.random()
        if roll < 0.45:
            return f"{_KINDS[rng.integers(len(_KINDS))]} {_PEOPLE[rng.integers(len(_PEOPLE))]}"
        if roll < 0.75:
            return _PLACES[rng.integers(len(_PLACES))]
        return f"{_PEOPLE[rng.integers(len(_PEOPLE))]} - {_PLACES[rng.integers(len(_PLACES))]}"

    def take(self, prefix: str = "") -> str:
        for _ in range(6):
            name = prefix + self._candidate()
            if name not in self._used:
                self._used.add(name)
                return name
        base = prefix + self._candidate()
        number = 2
        while f"{base} {number}" in self._used:
            number += 1
        name = f"{base} {number}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        self._used.add(name)
        return name
