// French and English texts of the site. A key missing in one language falls back to French.
const TEXTS = {
  fr: {
    title: "OùRA — vos trajets en Auvergne-Rhône-Alpes",
    skip: "Aller au contenu",
    tab_plan: "Itinéraire", tab_departures: "Départs", tab_alerts: "Alertes",
    from: "Départ", to: "Arrivée", when: "Date et heure", depart_at: "Partir à", arrive_by: "Arriver avant",
    wheelchair: "Accessible en fauteuil roulant", rider: "Profil", modes: "Modes",
    mode_transit: "Transports en commun", mode_carpool: "Covoiturage",
    rider_adult: "Adulte", rider_youth: "Jeune", rider_senior: "Senior", rider_reduced: "Tarif réduit",
    search: "Rechercher", searching: "Recherche…", swap: "Inverser départ et arrivée",
    place_hint: "Nom d'arrêt, de gare ou « lat,lon »", no_match: "Aucun arrêt ne correspond",
    results: "Itinéraires", none: "Aucun itinéraire", earlier: "Plus tôt", later: "Plus tard",
    duration: "Durée", transfers: "correspondances", transfer: "correspondance", direct: "direct",
    walking: "à pied", price: "Prix", price_unknown: "prix inconnu", products: "Titres",
    details: "Détail du trajet", leg_walk: "Marche", leg_carpool: "Covoiturage avec", platform: "voie",
    towards: "direction", delayed: "retard", early: "avance", cancelled: "Supprimé", skipped: "Arrêt non desservi",
    on_time: "à l'heure", realtime: "temps réel", planned: "horaire prévu", minutes: "min",
    map: "Carte du trajet", follow: "Suivre ce trajet", following: "Trajet suivi : vous serez prévenu en cas de perturbation",
    broken: "Votre trajet est perturbé", restored: "Votre trajet est rétabli", alternative: "Trajet de remplacement",
    show_alternative: "Voir ce trajet",
    buy: "Acheter les titres", buy_medium: "Numéro de carte OùRA ou de portefeuille", new_wallet: "Créer un portefeuille mobile",
    card_token: "Paiement (carte de test)", pay: "Payer", paid: "Commande payée", order: "Commande",
    total: "Total", buy_none: "Aucun titre à acheter pour ce trajet",
    stop: "Arrêt", departures: "Prochains départs", no_departures: "Aucun départ",
    alerts: "Alertes en cours", no_alerts: "Aucune alerte en cours", network: "Réseau", all_networks: "Tous les réseaux",
    error: "Erreur", language: "English", language_code: "en",
  },
  en: {
    title: "OùRA — your journeys in Auvergne-Rhône-Alpes",
    skip: "Skip to content",
    tab_plan: "Journey", tab_departures: "Departures", tab_alerts: "Alerts",
    from: "From", to: "To", when: "Date and time", depart_at: "Leave at", arrive_by: "Arrive by",
    wheelchair: "Wheelchair accessible", rider: "Rider", modes: "Modes",
    mode_transit: "Public transport", mode_carpool: "Carpool",
    rider_adult: "Adult", rider_youth: "Youth", rider_senior: "Senior", rider_reduced: "Reduced fare",
    search: "Search", searching: "Searching…", swap: "Swap from and to",
    place_hint: "Stop or station name, or \"lat,lon\"", no_match: "No stop matches",
    results: "Journeys", none: "No journey found", earlier: "Earlier", later: "Later",
    duration: "Duration", transfers: "transfers", transfer: "transfer", direct: "direct",
    walking: "walking", price: "Price", price_unknown: "price unknown", products: "Tickets",
    details: "Journey details", leg_walk: "Walk", leg_carpool: "Carpool with", platform: "platform",
    towards: "towards", delayed: "late", early: "early", cancelled: "Cancelled", skipped: "Stop skipped",
    on_time: "on time", realtime: "realtime", planned: "planned", minutes: "min",
    map: "Journey map", follow: "Follow this journey", following: "Journey followed: you will be told if it is disrupted",
    broken: "Your journey is disrupted", restored: "Your journey is back to normal", alternative: "Alternative journey",
    show_alternative: "Show this journey",
    buy: "Buy the tickets", buy_medium: "OùRA card or wallet number", new_wallet: "Create a phone wallet",
    card_token: "Payment (test card)", pay: "Pay", paid: "Order paid", order: "Order",
    total: "Total", buy_none: "No ticket to buy for this journey",
    stop: "Stop", departures: "Next departures", no_departures: "No departures",
    alerts: "Current alerts", no_alerts: "No current alerts", network: "Network", all_networks: "All networks",
    error: "Error", language: "Français", language_code: "fr",
  },
};

export const LANGS = Object.keys(TEXTS);

export function pickLang(search, navigatorLangs) {
  const asked = new URLSearchParams(search).get("lang");
  if (asked && TEXTS[asked]) return asked;
  for (const tag of navigatorLangs || []) {
    const primary = tag.toLowerCase().split("-")[0];
    if (TEXTS[primary]) return primary;
  }
  return "fr";
}

export function translator(lang) {
  const texts = TEXTS[lang] || TEXTS.fr;
  return (key) => texts[key] ?? TEXTS.fr[key] ?? key;
}
