"""The demo region as data: towns, stations, lines and authorities of Auvergne-Rhône-Alpes.

Everything the generator needs to know about the *real* region lives here, as plain values:
town centres and railway stations at their real coordinates (to about a hundred metres), the
rail lines that link them, the towns each département coach network serves, and the 26
authorities with their network ids. Streets, stops and timetables are generated procedurally
from these anchors (see `oura.demo.network`), so the region looks plausible on a map without a
single byte copied from a real feed.

Coordinates are WGS84 degrees (lat, lon). Ids are `[a-z0-9-]+` and stable: they end up in feed
ids, registry ids and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Place",
    "Pole",
    "TrunkLine",
    "UrbanArea",
    "RailLine",
    "CoachNetwork",
    "CoachLine",
    "Authority",
    "REGION_NAME",
    "REGION_TIMEZONE",
    "STATIONS",
    "URBAN_AREAS",
    "RAIL_LINES",
    "COACH_NETWORKS",
    "REGIONAL_COACH_LINES",
    "AUTHORITIES",
    "RAIL_NETWORK_ID",
    "REGIONAL_COACH_NETWORK_ID",
]

REGION_NAME = "Auvergne-Rhône-Alpes (demo)"
REGION_TIMEZONE = "Europe/Paris"
RAIL_NETWORK_ID = "ter"
REGIONAL_COACH_NETWORK_ID = "cars-region"


@dataclass(frozen=True, slots=True)
class Place:
    """A named point: a town, a village on a coach line, a railway station."""

    key: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Pole:
    """A transfer point of an urban network (station forecourt, town centre, district centre)."""

    key: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TrunkLine:
    """A metro or tram line given by the poles it runs through (stops are added in between)."""

    route_id: str
    mode: str  # "metro" | "tram"
    poles: tuple[str, ...]
    color: str


@dataclass(frozen=True, slots=True)
class UrbanArea:
    """One urban network: its town, population (drives size and frequency) and poles.

    ``station`` is the key in `STATIONS` of the railway station whose forecourt is the
    network's main pole (None for a town without passenger rail).
    """

    key: str
    town: str
    lat: float
    lon: float
    population: int
    network_id: str
    network_name: str
    authority_id: str
    authority_name: str
    station: str | None
    poles: tuple[Pole, ...] = ()
    trunk_lines: tuple[TrunkLine, ...] = ()


@dataclass(frozen=True, slots=True)
class RailLine:
    route_id: str
    name: str
    stations: tuple[str, ...]
    peak_headway_min: int
    offpeak_headway_min: int
    fast_skips: tuple[str, ...] = ()  # stations skipped by every other (semi-fast) train


@dataclass(frozen=True, slots=True)
class CoachLine:
    route_id: str
    towns: tuple[str, ...]  # keys into the network's towns (or STATIONS for regional lines)


@dataclass(frozen=True, slots=True)
class CoachNetwork:
    """A département coach network: the towns it links, its hub first."""

    key: str
    departement: str
    code: str
    network_id: str
    network_name: str
    authority_id: str
    authority_name: str
    towns: tuple[Place, ...]


@dataclass(frozen=True, slots=True)
class Authority:
    id: str
    name: str
    kind: str  # "region" | "departement" | "urban"
    network_ids: tuple[str, ...]


def _p(key: str, name: str, lat: float, lon: float) -> Place:
    return Place(key, name, lat, lon)


# Railway stations (passenger buildings), real positions.
STATIONS: dict[str, Place] = {
    p.key: p
    for p in (
        _p("lyon-part-dieu", "Lyon Part-Dieu", 45.7606, 4.8594),
        _p("lyon-perrache", "Lyon Perrache", 45.7487, 4.8264),
        _p("grenoble", "Grenoble", 45.1913, 5.7147),
        _p("saint-etienne", "Saint-Étienne Châteaucreux", 45.4434, 4.3995),
        _p("clermont", "Clermont-Ferrand", 45.7787, 3.1003),
        _p("chambery", "Chambéry - Challes-les-Eaux", 45.5712, 5.9195),
        _p("annecy", "Annecy", 45.9019, 6.1217),
        _p("valence", "Valence Ville", 44.9282, 4.8935),
        _p("annemasse", "Annemasse", 46.1994, 6.2377),
        _p("bourg", "Bourg-en-Bresse", 46.2000, 5.2150),
        _p("vienne", "Vienne", 45.5219, 4.8722),
        _p("roanne", "Roanne", 46.0367, 4.0756),
        _p("villefranche", "Villefranche-sur-Saône", 45.9856, 4.7195),
        _p("bourgoin", "Bourgoin-Jallieu", 45.5860, 5.2747),
        _p("voiron", "Voiron", 45.3640, 5.5882),
        _p("montelimar", "Montélimar", 44.5605, 4.7442),
        _p("aix-les-bains", "Aix-les-Bains - Le Revard", 45.6881, 5.9094),
        _p("givors", "Givors-Ville", 45.5904, 4.7700),
        _p("rive-de-gier", "Rive-de-Gier", 45.5266, 4.6180),
        _p("saint-chamond", "Saint-Chamond", 45.4757, 4.5135),
        _p("la-tour-du-pin", "La Tour-du-Pin", 45.5653, 5.4436),
        _p("l-isle-d-abeau", "L'Isle-d'Abeau", 45.6180, 5.2260),
        _p("rives", "Rives", 45.3580, 5.5030),
        _p("moirans", "Moirans", 45.3240, 5.5640),
        _p("amberieu", "Ambérieu-en-Bugey", 45.9550, 5.3560),
        _p("culoz", "Culoz", 45.8490, 5.7850),
        _p("tarare", "Tarare", 45.8961, 4.4330),
        _p("vichy", "Vichy", 46.1230, 3.4330),
        _p("riom", "Riom - Châtel-Guyon", 45.8940, 3.1130),
        _p("thiers", "Thiers", 45.8570, 3.5470),
        _p("montbrison", "Montbrison", 45.6070, 4.0650),
        _p("feurs", "Feurs", 45.7440, 4.2270),
        _p("firminy", "Firminy", 45.3880, 4.2880),
        _p("le-puy", "Le Puy-en-Velay", 45.0440, 3.8850),
        _p("romans", "Romans - Bourg-de-Péage", 45.0430, 5.0510),
        _p("saint-marcellin", "Saint-Marcellin", 45.1520, 5.3200),
        _p("tain", "Tain-l'Hermitage - Tournon", 45.0700, 4.8460),
        _p("saint-rambert", "Saint-Rambert-d'Albon", 45.2940, 4.8110),
        _p("livron", "Livron", 44.7730, 4.8420),
        _p("pierrelatte", "Pierrelatte", 44.3760, 4.6960),
        _p("bellegarde", "Bellegarde", 46.1080, 5.8260),
        _p("villars-les-dombes", "Villars-les-Dombes", 45.9960, 5.0300),
        _p("belleville", "Belleville-sur-Saône", 46.1090, 4.7490),
        _p("montmelian", "Montmélian", 45.5030, 6.0470),
        _p("pontcharra", "Pontcharra-sur-Bréda", 45.4330, 6.0170),
        _p("albertville", "Albertville", 45.6760, 6.3930),
        _p("moutiers", "Moûtiers - Salins - Brides-les-Bains", 45.4850, 6.5310),
        _p("bourg-saint-maurice", "Bourg-Saint-Maurice", 45.6180, 6.7690),
        _p("la-roche-sur-foron", "La Roche-sur-Foron", 46.0670, 6.3110),
        _p("cluses", "Cluses", 46.0600, 6.5800),
        _p("saint-gervais", "Saint-Gervais-les-Bains-Le Fayet", 45.9060, 6.7020),
        _p("thonon", "Thonon-les-Bains", 46.3700, 6.4800),
        _p("evian", "Évian-les-Bains", 46.4010, 6.5900),
        _p("oyonnax", "Oyonnax", 46.2560, 5.6550),
        _p("die", "Die", 44.7530, 5.3700),
        _p("crest", "Crest", 44.7280, 5.0220),
        _p("saint-jean-de-maurienne", "Saint-Jean-de-Maurienne", 45.2770, 6.3450),
        _p("modane", "Modane", 45.2000, 6.6700),
    )
}


def _poles(*items: tuple[str, str, float, float]) -> tuple[Pole, ...]:
    return tuple(Pole(*item) for item in items)


URBAN_AREAS: tuple[UrbanArea, ...] = (
    UrbanArea(
        "lyon", "Lyon", 45.7578, 4.8320, 1_420_000, "tcl", "TCL", "sytral",
        "SYTRAL Mobilités (Lyon)", "lyon-part-dieu",
        poles=_poles(
            ("bellecour", "Bellecour", 45.7578, 4.8320),
            ("perrache", "Perrache", 45.7490, 4.8270),
            ("hotel-de-ville", "Hôtel de Ville - Louis Pradel", 45.7675, 4.8360),
            ("charpennes", "Charpennes", 45.7706, 4.8633),
            ("gratte-ciel", "Gratte-Ciel", 45.7690, 4.8800),
            ("la-soie", "Vaulx-en-Velin La Soie", 45.7610, 4.9210),
            ("oullins", "Gare d'Oullins", 45.7140, 4.8080),
            ("vaise", "Gare de Vaise", 45.7800, 4.8040),
            ("venissieux", "Gare de Vénissieux", 45.7050, 4.8870),
            ("cuire", "Cuire", 45.7860, 4.8330),
            ("bron", "Bron Hôtel de Ville", 45.7380, 4.9130),
            ("gerland", "Debourg", 45.7310, 4.8340),
            ("grange-blanche", "Grange Blanche", 45.7430, 4.8790),
            ("saint-priest", "Saint-Priest Bel Air", 45.6980, 4.9420),
            ("meyzieu", "Meyzieu ZI", 45.7780, 5.0040),
            ("feyssine", "IUT Feyssine", 45.7850, 4.8800),
        ),
        trunk_lines=(
            TrunkLine("A", "metro", ("perrache", "bellecour", "hotel-de-ville", "charpennes", "gratte-ciel", "la-soie"), "EE3897"),
            TrunkLine("B", "metro", ("charpennes", "@station", "gerland", "oullins"), "0E9BD6"),
            TrunkLine("C", "metro", ("hotel-de-ville", "cuire"), "F39325"),
            TrunkLine("D", "metro", ("vaise", "bellecour", "grange-blanche", "venissieux"), "00A74F"),
            TrunkLine("T1", "tram", ("feyssine", "charpennes", "@station", "perrache", "gerland"), "6C207E"),
            TrunkLine("T2", "tram", ("perrache", "grange-blanche", "bron", "saint-priest"), "6C207E"),
            TrunkLine("T3", "tram", ("@station", "la-soie", "meyzieu"), "6C207E"),
            TrunkLine("T4", "tram", ("feyssine", "charpennes", "@station", "grange-blanche", "venissieux"), "6C207E"),
        ),
    ),
    UrbanArea(
        "grenoble", "Grenoble", 45.1885, 5.7245, 450_000, "m-reso", "M réso", "smmag",
        "SMMAG (Grenoble Alpes)", "grenoble",
        poles=_poles(
            ("victor-hugo", "Victor Hugo", 45.1885, 5.7245),
            ("saint-martin-d-heres", "Saint-Martin-d'Hères Neyrpic", 45.1730, 5.7650),
            ("echirolles", "Échirolles Centre", 45.1460, 5.7190),
            ("fontaine", "Fontaine La Poya", 45.1930, 5.6860),
            ("meylan", "Meylan Inovallée", 45.2100, 5.7800),
            ("presqu-ile", "Presqu'île", 45.2010, 5.7050),
        ),
        trunk_lines=(
            TrunkLine("A", "tram", ("fontaine", "@station", "victor-hugo", "echirolles"), "3376B8"),
            TrunkLine("B", "tram", ("presqu-ile", "@station", "victor-hugo", "saint-martin-d-heres"), "479A45"),
            TrunkLine("C", "tram", ("fontaine", "victor-hugo", "saint-martin-d-heres"), "C20078"),
            TrunkLine("E", "tram", ("meylan", "@station", "fontaine"), "533786"),
        ),
    ),
    UrbanArea(
        "saint-etienne", "Saint-Étienne", 45.4397, 4.3872, 400_000, "stas", "STAS",
        "saint-etienne-metropole", "Saint-Étienne Métropole", "saint-etienne",
        poles=_poles(
            ("hotel-de-ville", "Hôtel de Ville", 45.4397, 4.3872),
            ("bellevue", "Bellevue", 45.4230, 4.3700),
            ("hopital-nord", "Hôpital Nord", 45.4750, 4.3760),
            ("solaure", "Solaure", 45.4300, 4.4050),
        ),
        trunk_lines=(
            TrunkLine("T1", "tram", ("hopital-nord", "hotel-de-ville", "bellevue", "solaure"), "E2001A"),
            TrunkLine("T2", "tram", ("@station", "hotel-de-ville", "bellevue"), "E2001A"),
            TrunkLine("T3", "tram", ("hopital-nord", "@station", "solaure"), "E2001A"),
        ),
    ),
    UrbanArea(
        "clermont", "Clermont-Ferrand", 45.7772, 3.0820, 300_000, "t2c", "T2C", "smtc-clermont",
        "SMTC Clermont Auvergne Métropole", "clermont",
        poles=_poles(
            ("jaude", "Jaude", 45.7772, 3.0820),
            ("montferrand", "Montferrand", 45.7900, 3.1130),
            ("aubiere", "Aubière", 45.7510, 3.1110),
            ("chamalieres", "Chamalières", 45.7740, 3.0660),
        ),
        trunk_lines=(TrunkLine("A", "tram", ("montferrand", "jaude", "@station", "aubiere"), "E30613"),),
    ),
    UrbanArea("chambery", "Chambéry", 45.5646, 5.9178, 140_000, "synchro", "Synchro Bus",
              "grand-chambery", "Grand Chambéry", "chambery"),
    UrbanArea("annecy", "Annecy", 45.8992, 6.1294, 210_000, "sibra", "Sibra", "grand-annecy",
              "Grand Annecy", "annecy"),
    UrbanArea("valence", "Valence", 44.9334, 4.8924, 220_000, "citea", "Citéa",
              "valence-romans-mobilites", "Valence Romans Mobilités", "valence"),
    UrbanArea("annemasse", "Annemasse", 46.1934, 6.2342, 100_000, "tac", "TAC",
              "annemasse-agglo", "Annemasse Agglo", "annemasse"),
    UrbanArea("bourg", "Bourg-en-Bresse", 46.2052, 5.2255, 80_000, "rubis", "Rubis",
              "grand-bourg", "Grand Bourg Agglomération", "bourg"),
    UrbanArea("vienne", "Vienne", 45.5255, 4.8745, 70_000, "lva", "L'va",
              "vienne-condrieu", "Vienne Condrieu Agglomération", "vienne"),
    UrbanArea("roanne", "Roanne", 46.0365, 4.0680, 75_000, "star", "STAR",
              "roannais-agglo", "Roannais Agglomération", "roanne"),
    UrbanArea("villefranche", "Villefranche-sur-Saône", 45.9890, 4.7180, 75_000, "libellule",
              "Libellule", "agglo-villefranche", "Villefranche Beaujolais Saône Agglomération",
              "villefranche"),
    UrbanArea("bourgoin", "Bourgoin-Jallieu", 45.5870, 5.2790, 105_000, "ruban", "RUBAN", "capi",
              "CAPI Porte de l'Isère", "bourgoin"),
    UrbanArea("voiron", "Voiron", 45.3640, 5.5920, 90_000, "tpv", "TPV", "pays-voironnais",
              "Pays Voironnais", "voiron"),
    UrbanArea("montelimar", "Montélimar", 44.5581, 4.7509, 65_000, "montelibus", "Montélibus",
              "montelimar-agglo", "Montélimar Agglomération", "montelimar"),
    UrbanArea("annonay", "Annonay", 45.2397, 4.6709, 45_000, "babus", "BABUS",
              "annonay-rhone-agglo", "Annonay Rhône Agglo", None),
    UrbanArea("aix-les-bains", "Aix-les-Bains", 45.6885, 5.9153, 70_000, "ondea", "Ondéa",
              "grand-lac", "Grand Lac", "aix-les-bains"),
)


RAIL_LINES: tuple[RailLine, ...] = (
    RailLine("L1", "Lyon - Grenoble", ("lyon-part-dieu", "l-isle-d-abeau", "bourgoin", "la-tour-du-pin", "rives", "voiron", "moirans", "grenoble"), 30, 60, ("l-isle-d-abeau", "rives", "moirans")),
    RailLine("L2", "Lyon - Saint-Étienne", ("lyon-part-dieu", "lyon-perrache", "givors", "rive-de-gier", "saint-chamond", "saint-etienne"), 20, 30, ("givors", "saint-chamond")),
    RailLine("L3", "Lyon - Valence - Montélimar", ("lyon-part-dieu", "vienne", "saint-rambert", "tain", "valence", "livron", "montelimar", "pierrelatte"), 30, 60, ("saint-rambert", "livron")),
    RailLine("L4", "Lyon - Villefranche - Belleville", ("lyon-perrache", "lyon-part-dieu", "villefranche", "belleville"), 30, 60),
    RailLine("L5", "Lyon - Bourg-en-Bresse", ("lyon-part-dieu", "villars-les-dombes", "bourg"), 30, 60),
    RailLine("L6", "Lyon - Roanne - Clermont-Ferrand", ("lyon-part-dieu", "tarare", "roanne", "vichy", "riom", "clermont"), 60, 120, ("tarare", "riom")),
    RailLine("L7", "Lyon - Chambéry - Annecy", ("lyon-part-dieu", "amberieu", "culoz", "aix-les-bains", "annecy"), 60, 120, ("culoz",)),
    RailLine("L8", "Grenoble - Chambéry - Annecy", ("grenoble", "pontcharra", "montmelian", "chambery", "aix-les-bains", "annecy"), 30, 60, ("pontcharra",)),
    RailLine("L9", "Valence - Grenoble", ("valence", "romans", "saint-marcellin", "moirans", "grenoble"), 30, 60),
    RailLine("L10", "Saint-Étienne - Clermont-Ferrand", ("saint-etienne", "feurs", "montbrison", "thiers", "clermont"), 120, 120),
    RailLine("L11", "Saint-Étienne - Le Puy", ("saint-etienne", "firminy", "le-puy"), 60, 120),
    RailLine("L12", "Chambéry - Bourg-Saint-Maurice", ("chambery", "montmelian", "albertville", "moutiers", "bourg-saint-maurice"), 60, 120),
    RailLine("L13", "Annecy - Annemasse - Évian", ("annecy", "la-roche-sur-foron", "annemasse", "thonon", "evian"), 30, 60),
    RailLine("L14", "Annemasse - Saint-Gervais", ("annemasse", "la-roche-sur-foron", "cluses", "saint-gervais"), 60, 60),
    RailLine("L15", "Bourg-en-Bresse - Oyonnax", ("bourg", "amberieu", "oyonnax"), 120, 120),
    RailLine("L16", "Lyon - Ambérieu - Bellegarde", ("lyon-part-dieu", "amberieu", "culoz", "bellegarde"), 60, 120),
    RailLine("L17", "Valence - Die", ("valence", "livron", "crest", "die"), 120, 120),
    RailLine("L18", "Chambéry - Modane", ("chambery", "montmelian", "saint-jean-de-maurienne", "modane"), 60, 120),
    RailLine("L19", "Clermont-Ferrand - Vichy", ("clermont", "riom", "vichy"), 30, 60),
)


def _coach(key, departement, code, network_name, authority_name, towns) -> CoachNetwork:
    return CoachNetwork(
        key=key,
        departement=departement,
        code=code,
        network_id=f"cars-{key}",
        network_name=network_name,
        authority_id=key,
        authority_name=authority_name,
        towns=tuple(_p(*t) for t in towns),
    )


COACH_NETWORKS: tuple[CoachNetwork, ...] = (
    _coach("ain", "Ain", "01", "car.ain", "Département de l'Ain", (
        ("bourg", "Bourg-en-Bresse Gare routière", 46.2006, 5.2158), ("oyonnax", "Oyonnax", 46.2560, 5.6550),
        ("amberieu", "Ambérieu-en-Bugey", 45.9550, 5.3560), ("belley", "Belley", 45.7590, 5.6880),
        ("gex", "Gex", 46.3330, 6.0580), ("bellegarde", "Valserhône Bellegarde", 46.1080, 5.8260),
        ("trevoux", "Trévoux", 45.9410, 4.7760), ("nantua", "Nantua", 46.1530, 5.6070),
        ("chatillon", "Châtillon-sur-Chalaronne", 46.1180, 4.9570), ("pont-de-vaux", "Pont-de-Vaux", 46.4310, 4.9370),
        ("miribel", "Miribel", 45.8260, 4.9540), ("montluel", "Montluel", 45.8510, 5.0570))),
    _coach("ardeche", "Ardèche", "07", "Le Sept", "Département de l'Ardèche", (
        ("privas", "Privas Gare routière", 44.7350, 4.5990), ("aubenas", "Aubenas", 44.6200, 4.3900),
        ("annonay", "Annonay Gare routière", 45.2410, 4.6700), ("tournon", "Tournon-sur-Rhône", 45.0670, 4.8330),
        ("le-teil", "Le Teil", 44.5450, 4.6820), ("largentiere", "Largentière", 44.5430, 4.2930),
        ("lamastre", "Lamastre", 44.9870, 4.5800), ("vallon", "Vallon-Pont-d'Arc", 44.4060, 4.3940),
        ("bourg-saint-andeol", "Bourg-Saint-Andéol", 44.3730, 4.6440), ("le-cheylard", "Le Cheylard", 44.9060, 4.4230),
        ("valence", "Valence Gare routière", 44.9278, 4.8941))),
    _coach("drome", "Drôme", "26", "Cars Drôme", "Département de la Drôme", (
        ("valence", "Valence Gare routière", 44.9278, 4.8941), ("montelimar", "Montélimar Gare routière", 44.5610, 4.7450),
        ("romans", "Romans-sur-Isère", 45.0430, 5.0510), ("die", "Die", 44.7530, 5.3700),
        ("crest", "Crest", 44.7280, 5.0220), ("nyons", "Nyons", 44.3610, 5.1400),
        ("pierrelatte", "Pierrelatte", 44.3760, 4.6960), ("saint-vallier", "Saint-Vallier", 45.1800, 4.8180),
        ("dieulefit", "Dieulefit", 44.5250, 5.0620), ("saint-jean-en-royans", "Saint-Jean-en-Royans", 45.0190, 5.2920),
        ("loriol", "Loriol-sur-Drôme", 44.7500, 4.8220))),
    _coach("isere", "Isère", "38", "Cars Isère", "Département de l'Isère", (
        ("grenoble", "Grenoble Gare routière", 45.1920, 5.7140), ("vienne", "Vienne Gare routière", 45.5225, 4.8715),
        ("bourgoin", "Bourgoin-Jallieu Gare routière", 45.5866, 5.2740), ("voiron", "Voiron Gare routière", 45.3645, 5.5875),
        ("la-tour-du-pin", "La Tour-du-Pin", 45.5653, 5.4436), ("saint-marcellin", "Saint-Marcellin", 45.1520, 5.3200),
        ("vizille", "Vizille", 45.0780, 5.7710), ("bourg-d-oisans", "Le Bourg-d'Oisans", 45.0550, 6.0300),
        ("pontcharra", "Pontcharra", 45.4330, 6.0170), ("la-mure", "La Mure", 44.9020, 5.7860),
        ("villard-de-lans", "Villard-de-Lans", 45.0710, 5.5530), ("crolles", "Crolles", 45.2850, 5.8830),
        ("morestel", "Morestel", 45.6790, 5.4690), ("roussillon", "Roussillon", 45.3720, 4.8130))),
    _coach("loire", "Loire", "42", "TIL", "Département de la Loire", (
        ("saint-etienne", "Saint-Étienne Gare routière", 45.4440, 4.4002), ("roanne", "Roanne Gare routière", 46.0372, 4.0762),
        ("montbrison", "Montbrison", 45.6070, 4.0650), ("feurs", "Feurs", 45.7440, 4.2270),
        ("firminy", "Firminy", 45.3880, 4.2880), ("saint-chamond", "Saint-Chamond", 45.4757, 4.5135),
        ("rive-de-gier", "Rive-de-Gier", 45.5266, 4.6180), ("charlieu", "Charlieu", 46.1610, 4.1720),
        ("boen", "Boën-sur-Lignon", 45.7440, 3.9940), ("saint-just", "Saint-Just-Saint-Rambert", 45.4990, 4.2410),
        ("bourg-argental", "Bourg-Argental", 45.2990, 4.5660))),
    _coach("rhone", "Rhône", "69", "Cars du Rhône", "Département du Rhône", (
        ("lyon", "Lyon Perrache Gare routière", 45.7492, 4.8258), ("villefranche", "Villefranche Gare routière", 45.9861, 4.7190),
        ("tarare", "Tarare", 45.8961, 4.4330), ("givors", "Givors", 45.5904, 4.7700),
        ("l-arbresle", "L'Arbresle", 45.8340, 4.6160), ("belleville", "Belleville-en-Beaujolais", 46.1090, 4.7490),
        ("beaujeu", "Beaujeu", 46.1550, 4.5870), ("mornant", "Mornant", 45.6190, 4.6720),
        ("saint-symphorien", "Saint-Symphorien-sur-Coise", 45.6320, 4.4560), ("anse", "Anse", 45.9360, 4.7220),
        ("thizy", "Thizy-les-Bourgs", 46.0290, 4.3130))),
    _coach("savoie", "Savoie", "73", "Belle Savoie Express", "Département de la Savoie", (
        ("chambery", "Chambéry Gare routière", 45.5718, 5.9200), ("aix-les-bains", "Aix-les-Bains Gare routière", 45.6886, 5.9100),
        ("albertville", "Albertville", 45.6760, 6.3930), ("moutiers", "Moûtiers", 45.4850, 6.5310),
        ("bourg-saint-maurice", "Bourg-Saint-Maurice", 45.6180, 6.7690), ("saint-jean-de-maurienne", "Saint-Jean-de-Maurienne", 45.2770, 6.3450),
        ("montmelian", "Montmélian", 45.5030, 6.0470), ("modane", "Modane", 45.2000, 6.6700),
        ("val-thorens", "Val Thorens", 45.2980, 6.5800), ("tignes", "Tignes", 45.4690, 6.9060),
        ("yenne", "Yenne", 45.7030, 5.7590), ("les-echelles", "Les Échelles", 45.4410, 5.7490))),
    _coach("haute-savoie", "Haute-Savoie", "74", "Lihsa", "Département de la Haute-Savoie", (
        ("annecy", "Annecy Gare routière", 45.9025, 6.1222), ("annemasse", "Annemasse Gare routière", 46.1999, 6.2382),
        ("thonon", "Thonon-les-Bains", 46.3700, 6.4800), ("evian", "Évian-les-Bains", 46.4010, 6.5900),
        ("cluses", "Cluses", 46.0600, 6.5800), ("sallanches", "Sallanches", 45.9360, 6.6310),
        ("chamonix", "Chamonix-Mont-Blanc", 45.9240, 6.8690), ("rumilly", "Rumilly", 45.8660, 5.9440),
        ("saint-julien", "Saint-Julien-en-Genevois", 46.1440, 6.0810), ("bonneville", "Bonneville", 46.0780, 6.4010),
        ("la-clusaz", "La Clusaz", 45.9050, 6.4230), ("morzine", "Morzine", 46.1790, 6.7090))),
)

# Regional coach lines link towns without (fast) rail; stations are STATIONS keys, towns with an
# "@" prefix are urban areas without a station (their coach station is near the town centre).
REGIONAL_COACH_LINES: tuple[CoachLine, ...] = (
    CoachLine("X1", ("lyon-perrache", "givors", "@annonay")),
    CoachLine("X2", ("saint-etienne", "@annonay", "tain", "valence")),
    CoachLine("X3", ("valence", "crest", "die")),
    CoachLine("X4", ("grenoble", "chambery")),
    CoachLine("X5", ("grenoble", "annecy")),
    CoachLine("X6", ("clermont", "thiers", "montbrison", "saint-etienne")),
    CoachLine("X7", ("annecy", "albertville", "moutiers")),
    CoachLine("X8", ("lyon-part-dieu", "bourgoin", "la-tour-du-pin")),
    CoachLine("X9", ("bourg", "villars-les-dombes", "villefranche")),
    CoachLine("X10", ("montelimar", "pierrelatte", "@annonay")),
    CoachLine("X11", ("le-puy", "firminy", "saint-etienne")),
    CoachLine("X12", ("annemasse", "thonon", "evian")),
)


def _authorities() -> tuple[Authority, ...]:
    region = Authority("auvergne-rhone-alpes", "Région Auvergne-Rhône-Alpes", "region",
                       (RAIL_NETWORK_ID, REGIONAL_COACH_NETWORK_ID))
    departements = tuple(
        Authority(c.authority_id, c.authority_name, "departement", (c.network_id,)) for c in COACH_NETWORKS
    )
    urban = tuple(Authority(u.authority_id, u.authority_name, "urban", (u.network_id,)) for u in URBAN_AREAS)
    return (region, *departements, *urban)


AUTHORITIES: tuple[Authority, ...] = _authorities()
