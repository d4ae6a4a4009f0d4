// The OùRA traveller site: search, itineraries, map, follow, buy; departures and alerts.
// Everything it shows comes from the public API (/v1/...); buying goes through the site's web
// shop (/site/shop/...), a sales point of the region like any other.
import "leaflet/dist/leaflet.css";
import "./site.css";
import { pickLang, translator } from "./i18n.js";
import { JourneyMap } from "./map.js";

const ZONE = "Europe/Paris";
const $ = (selector, root = document) => root.querySelector(selector);
const lang = pickLang(location.search, navigator.languages);
const t = translator(lang);

// ------------------------------------------------------------------ small helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, { headers: { Accept: "application/json", "Accept-Language": lang, ...(options.headers || {}) }, ...options });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(body?.detail || body?.title || `${response.status}`);
    error.problem = body;
    error.status = response.status;
    throw error;
  }
  return body;
}

const clock = (iso) => (iso ? iso.slice(11, 16) : "");
const minutes = (seconds) => Math.round(seconds / 60);

function duration(seconds) {
  const m = minutes(seconds);
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}` : `${m} ${t("minutes")}`;
}

function money(minor, currency) {
  return new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB", { style: "currency", currency: currency || "EUR" }).format(minor / 100);
}

// The offset of Europe/Paris at a local wall-clock time ("2025-03-05T06:30"), so the API gets ISO 8601 with offset.
function withZoneOffset(local) {
  const asUtc = Date.parse(`${local}:00Z`);
  const offsetAt = (instant) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    }).formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
    const wall = Date.parse(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:00Z`);
    return Math.round((wall - instant) / 60000);
  };
  const offset = offsetAt(asUtc - offsetAt(asUtc) * 60000);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${local}:00${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function nowLocal() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

function announce(text) {
  const live = $("#live");
  live.textContent = "";
  window.setTimeout(() => { live.textContent = text; }, 30);
}

function showError(container, error) {
  container.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")} : ${error.message}`));
}

// ------------------------------------------------------------------ autocomplete (ARIA combobox)

function placeInput(id, label) {
  const listId = `${id}-options`;
  const input = el("input", {
    id, name: id, type: "text", autocomplete: "off", role: "combobox", "aria-autocomplete": "list",
    "aria-expanded": "false", "aria-controls": listId, placeholder: t("place_hint"), required: true,
  });
  const list = el("ul", { id: listId, role: "listbox", class: "options", hidden: true, "aria-label": label });
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
  const choose = (stop) => { input.value = stop.name; input.dataset.id = stop.id; close(); };
  const highlight = (index) => {
    const options = [...list.children].filter((o) => o.getAttribute("role") === "option");
    if (!options.length) return;
    active = (index + options.length) % options.length;
    options.forEach((o, i) => o.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", options[active].id);
  };
  const render = (stops) => {
    list.replaceChildren(...(stops.length ? stops.map((stop, i) => el("li", {
      id: `${listId}-${i}`, role: "option", "aria-selected": "false", "data-id": stop.id,
      onmousedown: (event) => { event.preventDefault(); choose(stop); },
    }, stop.name, stop.disambiguation ? el("span", { class: "network" }, ` (${stop.disambiguation})`) : null))
      : [el("li", { class: "empty" }, t("no_match"))]));
    list._stops = stops;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  };
  input.addEventListener("input", () => {
    delete input.dataset.id;
    window.clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2 || /^-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?$/.test(q)) { close(); return; }
    timer = window.setTimeout(async () => {
      const ask = ++asked;
      try {
        const { stops } = await api(`/v1/stops?q=${encodeURIComponent(q)}&limit=8`);
        if (ask === asked && document.activeElement === input) render(stops);
      } catch { close(); }
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
    else if (event.key === "Enter" && active >= 0 && list._stops?.[active]) { event.preventDefault(); choose(list._stops[active]); }
    else if (event.key === "Escape") close();
  });
  input.addEventListener("blur", () => window.setTimeout(close, 100));
  return { input, list };
}

const placeValue = (input) => input.dataset.id || input.value.trim();

// ------------------------------------------------------------------ the journey tab

const state = { answer: null, selected: null, map: null, basemap: null, watch: null, config: {} };

function searchForm() {
  const from = placeInput("from", t("from"));
  const to = placeInput("to", t("to"));
  const when = el("input", { id: "when", name: "when", type: "datetime-local", value: nowLocal(), required: true });
  const rider = el("select", { id: "rider", name: "rider" },
    ["adult", "youth", "senior", "reduced"].map((r) => el("option", { value: r }, t(`rider_${r}`))));
  const form = el("form", { id: "search", class: "search", role: "search", "aria-label": t("tab_plan") },
    el("div", { class: "field" }, el("label", { for: "from" }, t("from")), el("div", { class: "combo" }, from.input, from.list)),
    el("button", { type: "button", class: "swap", "aria-label": t("swap"), title: t("swap"), onclick: () => {
      [from.input.value, to.input.value] = [to.input.value, from.input.value];
      [from.input.dataset.id, to.input.dataset.id] = [to.input.dataset.id, from.input.dataset.id];
      for (const input of [from.input, to.input]) if (input.dataset.id === "undefined") delete input.dataset.id;
    } }, "⇅"),
    el("div", { class: "field" }, el("label", { for: "to" }, t("to")), el("div", { class: "combo" }, to.input, to.list)),
    el("div", { class: "field" }, el("label", { for: "when" }, t("when")), when),
    el("fieldset", { class: "inline" }, el("legend", { class: "visually-hidden" }, t("when")),
      el("label", {}, el("input", { type: "radio", name: "arrive_by", value: "false", checked: true }), ` ${t("depart_at")}`),
      el("label", {}, el("input", { type: "radio", name: "arrive_by", value: "true" }), ` ${t("arrive_by")}`)),
    el("div", { class: "field" }, el("label", { for: "rider" }, t("rider")), rider),
    el("fieldset", { class: "inline" }, el("legend", {}, t("modes")),
      el("label", {}, el("input", { type: "checkbox", name: "mode", value: "transit", checked: true }), ` ${t("mode_transit")}`),
      el("label", {}, el("input", { type: "checkbox", name: "mode", value: "carpool" }), ` ${t("mode_carpool")}`)),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "wheelchair", id: "wheelchair" }), ` ${t("wheelchair")}`),
    el("button", { type: "submit", class: "primary", id: "submit" }, t("search")));
  form.addEventListener("submit", (event) => { event.preventDefault(); runSearch(form); });
  return form;
}

function formQuery(form) {
  const params = new URLSearchParams();
  params.set("from", placeValue($("#from", form)));
  params.set("to", placeValue($("#to", form)));
  params.set("datetime", withZoneOffset($("#when", form).value));
  if (form.querySelector("input[name=arrive_by]:checked").value === "true") params.set("arrive_by", "true");
  if ($("#wheelchair", form).checked) params.set("wheelchair", "true");
  params.set("rider_category", $("#rider", form).value);
  params.set("window", "3600");  // every good departure of the hour, not only the first (then "later")
  const modes = [...form.querySelectorAll("input[name=mode]:checked")].map((i) => i.value);
  params.set("modes", [...modes, "walk"].join(","));
  params.set("lang", lang);
  return params;
}

function shareState(form, params) {
  const shared = new URLSearchParams(params);
  shared.set("from_name", $("#from", form).value);
  shared.set("to_name", $("#to", form).value);
  shared.set("when", $("#when", form).value);
  shared.delete("datetime");
  history.replaceState(null, "", `/?${shared}#plan`);
}

function restoreForm(form) {
  const shared = new URLSearchParams(location.search);
  if (!shared.get("from") || !shared.get("to")) return false;
  for (const end of ["from", "to"]) {
    const input = $(`#${end}`, form);
    input.value = shared.get(`${end}_name`) || shared.get(end);
    input.dataset.id = shared.get(end);
  }
  if (shared.get("when")) $("#when", form).value = shared.get("when");
  if (shared.get("arrive_by") === "true") form.querySelector("input[name=arrive_by][value=true]").checked = true;
  $("#wheelchair", form).checked = shared.get("wheelchair") === "true";
  if (shared.get("rider_category")) $("#rider", form).value = shared.get("rider_category");
  const modes = (shared.get("modes") || "transit").split(",");
  for (const box of form.querySelectorAll("input[name=mode]")) box.checked = modes.includes(box.value);
  return true;
}

async function runSearch(form, cursor) {
  const results = $("#results");
  const params = formQuery(form);
  if (cursor) params.set("cursor", cursor);
  shareState(form, params);
  results.setAttribute("aria-busy", "true");
  $("#submit").textContent = t("searching");
  const started = performance.now();
  try {
    state.answer = await api(`/v1/journeys?${params}`);
    renderResults(form);
    window.__ouraTimings = { ...(window.__ouraTimings || {}), listRenderedMs: performance.now() - started };
    announce(`${state.answer.journeys.length} ${t("results")}`);
  } catch (error) {
    showError(results, error);
  } finally {
    results.removeAttribute("aria-busy");
    $("#submit").textContent = t("search");
  }
}

// A line's GTFS colours as a badge's style, kept to WCAG AA contrast (4.5:1): the feed's text
// colour when it contrasts enough, else black or white, whichever contrasts more.
function luminance(hex) {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
}
const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };

export function badgeStyle(background, text) {
  const bg = /^#[0-9a-f]{6}$/i.test(background || "") ? background : "#0b6e4f";
  let fg = /^#[0-9a-f]{6}$/i.test(text || "") ? text : "#ffffff";
  if (contrast(bg, fg) < 4.5) fg = contrast(bg, "#000000") >= contrast(bg, "#ffffff") ? "#000000" : "#ffffff";
  return `background:${bg};color:${fg}`;
}

function legBadge(leg) {
  if (leg.type === "walk") return el("span", { class: "badge walk" }, t("leg_walk"));
  if (leg.type === "carpool") return el("span", { class: "badge carpool" }, t("mode_carpool"));
  return el("span", { class: "badge line", style: badgeStyle(leg.route.color, leg.route.text_color) },
    leg.route.short_name || leg.route.long_name || leg.mode);
}

function summaryLine(itinerary) {
  const price = itinerary.total_price || itinerary.fare;
  const priceText = price ? `${money(price.total_minor, price.currency)}${price.is_complete ? "" : " +"}` : t("price_unknown");
  const transfers = itinerary.transfers === 0 ? t("direct") : `${itinerary.transfers} ${itinerary.transfers === 1 ? t("transfer") : t("transfers")}`;
  return [`${clock(itinerary.departure)} → ${clock(itinerary.arrival)}`, duration(itinerary.duration_s), transfers,
    `${Math.round(itinerary.walking_distance_m)} m ${t("walking")}`, priceText];
}

function renderResults(form) {
  const results = $("#results");
  const answer = state.answer;
  const list = el("ol", { class: "itineraries", "aria-label": t("results") });
  answer.journeys.forEach((itinerary, index) => {
    const broken = itinerary.legs.some((leg) => leg.status === "cancelled" || leg.stops?.some((s) => s.status === "skipped"));
    const products = (itinerary.fare?.products || []).map((p) => p.name).join(" + ");
    list.append(el("li", {},
      el("button", { type: "button", class: `itinerary${broken ? " broken" : ""}`, "aria-expanded": "false", "data-index": index,
        onclick: () => selectItinerary(index) },
      el("span", { class: "times" }, summaryLine(itinerary)[0]),
      el("span", { class: "legs" }, itinerary.legs.map(legBadge)),
      el("span", { class: "facts" }, summaryLine(itinerary).slice(1).join(" · ")),
      products ? el("span", { class: "products" }, `${t("products")} : ${products}`) : null)));
  });
  const pages = el("div", { class: "pages" },
    answer.previous ? el("button", { type: "button", onclick: () => runSearch(form, answer.previous) }, `← ${t("earlier")}`) : null,
    answer.next ? el("button", { type: "button", onclick: () => runSearch(form, answer.next) }, `${t("later")} →`) : null);
  const reasons = answer.journeys.length ? null
    : el("p", { class: "none" }, t("none"), ...(answer.reasons || []).map((r) => el("span", { class: "reason" }, ` ${r.detail || r.code}`)));
  results.replaceChildren(...[el("h2", {}, t("results")), reasons, list, pages].filter(Boolean));
  if (answer.journeys.length) selectItinerary(0);
}

function callTime(call, kind) {
  const planned = call[`scheduled_${kind}`];
  const live = call[`realtime_${kind}`];
  if (call.status === "skipped") return el("span", { class: "status cancelled" }, t("skipped"));
  if (live && planned && live !== planned) {
    return el("span", {}, el("del", {}, clock(planned)), " ", el("strong", { class: "status delayed" }, clock(live)));
  }
  return el("span", {}, clock(live || planned || call[kind]));
}

function legDetails(leg) {
  if (leg.type === "walk") {
    return el("li", { class: "leg walk" }, legBadge(leg),
      el("span", {}, `${t("leg_walk")} ${Math.round(leg.distance_m)} m (${duration(leg.duration_s)}) → ${leg.to?.name || ""}`));
  }
  if (leg.type === "carpool") {
    const price = leg.price?.amount_minor != null ? ` · ${money(leg.price.amount_minor, leg.price.currency)}` : "";
    return el("li", { class: "leg carpool" }, legBadge(leg),
      el("span", {}, `${clock(leg.departure)} ${leg.from.name} → ${clock(leg.arrival)} ${leg.to.name} · ${t("leg_carpool")} ${leg.driver.alias} (${leg.operator})${price}`),
      leg.booking?.url ? el("a", { href: leg.booking.url, rel: "noopener" }, ` ${leg.booking.url}`) : null);
  }
  const delay = leg.departure_delay_s ?? leg.arrival_delay_s;
  let status = null;
  if (leg.status === "cancelled") status = el("strong", { class: "status cancelled" }, t("cancelled"));
  else if (leg.realtime && delay >= 60) status = el("strong", { class: "status delayed" }, `+${minutes(delay)} ${t("minutes")} ${t("delayed")}`);
  else if (leg.realtime) status = el("span", { class: "status on-time" }, t("on_time"));
  const platform = (call) => (call.platform ? ` (${t("platform")} ${call.platform})` : "");
  return el("li", { class: `leg transit${leg.status === "cancelled" ? " cancelled" : ""}`, "data-trip": leg.trip_id,
    "data-service-date": leg.service_date, "data-status": leg.status },
    legBadge(leg),
    el("div", {},
      el("div", {}, callTime(leg.from, "departure"), ` ${leg.from.name}${platform(leg.from)} `, status),
      el("div", { class: "headsign" }, `${t("towards")} ${leg.headsign}`),
      el("div", {}, callTime(leg.to, "arrival"), ` ${leg.to.name}${platform(leg.to)}`),
      ...(leg.alerts || []).map((alert) => el("p", { class: "alert", role: "note" }, `⚠ ${alert.header || alert.effect}`, alert.description ? ` — ${alert.description}` : ""))));
}

function selectItinerary(index) {
  const itinerary = state.answer.journeys[index];
  state.selected = itinerary;
  document.querySelectorAll("button.itinerary").forEach((b) => b.setAttribute("aria-expanded", String(Number(b.dataset.index) === index)));
  const details = $("#details");
  details.replaceChildren(...[
    el("h2", {}, t("details")),
    el("p", { class: "facts" }, summaryLine(itinerary).join(" · "),
      el("span", { class: "realtime" }, ` · ${itinerary.realtime ? t("realtime") : t("planned")}`)),
    el("ol", { class: "legs-detail" }, itinerary.legs.map(legDetails)),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "follow", onclick: () => followItinerary(itinerary) }, t("follow"))),
    el("div", { id: "watch-status", role: "status" }),
    buyPanel(itinerary)]);
  showOnMap(itinerary);
}

async function showOnMap(itinerary) {
  if (!state.map) return;
  state.map.showItinerary(itinerary);
  const routes = [...new Set(itinerary.legs.filter((l) => l.type === "transit").map((l) => l.route.id))];
  try {
    const found = await Promise.all(routes.map((route) => api(`/v1/vehicles?route=${encodeURIComponent(route)}`)));
    state.map.showVehicles(found.flatMap((answer) => answer.vehicles));
  } catch { /* positions are a bonus: the map works without them */ }
}

// ------------------------------------------------------------------ follow (watches + SSE)

async function followItinerary(itinerary) {
  const status = $("#watch-status");
  if (state.watch) state.watch.close();
  try {
    const watch = await api("/v1/watches", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ itinerary_id: itinerary.id }) });
    status.replaceChildren(el("p", { class: "following" }, t("following")));
    const source = new EventSource(watch.events_url);
    state.watch = source;
    source.addEventListener("broken", (event) => showBroken(JSON.parse(event.data)));
    source.addEventListener("restored", () => { status.replaceChildren(el("p", { class: "following" }, t("restored"))); announce(t("restored")); });
  } catch (error) {
    showError(status, error);
  }
}

function showBroken(data) {
  const status = $("#watch-status");
  const problems = data.problems.map((p) => el("li", { "data-code": p.code }, p.detail || p.code));
  const alternatives = data.alternatives.map(({ itinerary }) => el("li", { class: "alternative" },
    el("span", {}, summaryLine(itinerary).join(" · ")), " ",
    el("span", { class: "legs" }, itinerary.legs.map(legBadge)), " ",
    el("button", { type: "button", onclick: () => {
      state.answer = { ...state.answer, journeys: [itinerary, ...state.answer.journeys] };
      renderResults($("#search"));
    } }, t("show_alternative"))));
  status.replaceChildren(el("div", { class: "broken-banner", role: "alert" },
    el("h3", {}, t("broken")), el("ul", {}, problems),
    alternatives.length ? el("h4", {}, t("alternative")) : null, el("ul", { class: "alternatives" }, alternatives)));
  announce(t("broken"));
  const legs = document.querySelectorAll(".legs-detail > li");
  for (const problem of data.problems) {
    const leg = legs[problem.leg_index];
    if (leg && problem.code === "trip_canceled") {
      leg.classList.add("cancelled");
      leg.append(el("strong", { class: "status cancelled" }, t("cancelled")));
    }
  }
}

// ------------------------------------------------------------------ buy (the web shop)

function orderKey(itinerary) {
  // one key per purchase attempt of this itinerary, kept for retries (a reload retries the same sale)
  const name = `oura-order-${itinerary.id.slice(0, 80)}`;
  let key = sessionStorage.getItem(name);
  if (!key) { key = crypto.randomUUID(); sessionStorage.setItem(name, key); }
  return key;
}

// The /v1/orders body for the quoted products on this medium: each at its price on the medium's
// kind (a wallet's W serial, else the regional card), from the public product list.
async function orderBody(products, serial, paymentToken) {
  const media = serial.startsWith("W") ? "oura-wallet" : "oura-card";
  const items = [];
  for (const product of products) {
    const rider = product.rider_category_id || "adult";
    const network = product.network_ids?.[0];
    const { products: rows } = await api(`/v1/products?rider_category=${encodeURIComponent(rider)}&media=${media}${network ? `&network=${encodeURIComponent(network)}` : ""}`);
    const row = rows.find((r) => r.fare_product_id === product.fare_product_id);
    if (!row) throw new Error(`${product.name}: ${media}`);
    items.push({ fare_product_id: row.fare_product_id, rider_category_id: row.rider_category_id, fare_media_id: media,
      medium: serial, unit_price_minor: row.price_minor });
  }
  return { items, payment: { token: paymentToken }, expected_total_minor: items.reduce((sum, i) => sum + i.unit_price_minor, 0) };
}

function buyPanel(itinerary) {
  const products = itinerary.fare?.products || [];
  if (!products.length) return el("section", { class: "buy" }, el("h3", {}, t("buy")), el("p", {}, t("buy_none")));
  const medium = el("input", { id: "medium", name: "medium", type: "text", autocomplete: "off", value: localStorage.getItem("oura-medium") || "" });
  const token = el("select", { id: "payment", name: "payment" },
    el("option", { value: "tok_approve" }, "4242 4242 4242 4242 (ok)"), el("option", { value: "tok_decline" }, "4000 0000 0000 0002 (refus)"));
  const outcome = el("div", { id: "order-outcome", role: "status" });
  const form = el("form", { class: "buy", id: "buy" },
    el("h3", {}, t("buy")),
    el("ul", {}, products.map((p) => el("li", {}, `${p.name} — ${money(p.price_minor, p.currency)}`))),
    el("div", { class: "field" }, el("label", { for: "medium" }, t("buy_medium")), medium),
    el("button", { type: "button", id: "new-wallet", onclick: async () => {
      try {
        const wallet = await api("/site/shop/wallets", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
        medium.value = wallet.serial;
        localStorage.setItem("oura-medium", wallet.serial);
      } catch (error) { showError(outcome, error); }
    } }, t("new_wallet")),
    el("div", { class: "field" }, el("label", { for: "payment" }, t("card_token")), token),
    el("button", { type: "submit", class: "primary", id: "pay" }, t("pay")),
    outcome);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const serial = medium.value.trim();
    try {
      const order = await api("/site/shop/orders", {
        method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": orderKey(itinerary) },
        body: JSON.stringify(await orderBody(products, serial, token.value)),
      });
      localStorage.setItem("oura-medium", serial);
      outcome.replaceChildren(el("p", { class: "paid", "data-order-id": order.order_id },
        `${t("paid")} — ${t("order")} n° ${order.order_id} · ${t("total")} ${money(order.total_minor, order.currency)}`));
      announce(t("paid"));
    } catch (error) {
      showError(outcome, error);
    }
  });
  return form;
}

// ------------------------------------------------------------------ departures and alerts tabs

function departuresTab() {
  const stop = placeInput("board-stop", t("stop"));
  const board = el("div", { id: "board", "aria-live": "polite" });
  const form = el("form", { class: "search", id: "departures-form" },
    el("div", { class: "field" }, el("label", { for: "board-stop" }, t("stop")), el("div", { class: "combo" }, stop.input, stop.list)),
    el("button", { type: "submit", class: "primary" }, t("departures")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = placeValue(stop.input);
    try {
      const answer = await api(`/v1/stops/${encodeURIComponent(id)}/departures?limit=15&lang=${lang}`);
      history.replaceState(null, "", `/?stop=${encodeURIComponent(id)}&lang=${lang}#departures`);
      board.replaceChildren(el("h2", {}, `${t("departures")} — ${answer.stop.name}`), answer.departures.length
        ? el("table", { class: "board" },
          el("thead", {}, el("tr", {}, ["", t("towards"), t("when"), t("platform")].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, answer.departures.map((d) => el("tr", { class: d.status },
            el("td", {}, el("span", { class: "badge line", style: badgeStyle(d.route.color, null) }, d.route.short_name || d.route.mode)),
            el("td", {}, d.headsign),
            el("td", {}, d.status === "cancelled" ? el("strong", { class: "status cancelled" }, t("cancelled"))
              : d.realtime_departure && d.realtime_departure !== d.scheduled_departure
                ? el("span", {}, el("del", {}, clock(d.scheduled_departure)), " ", el("strong", { class: "status delayed" }, clock(d.realtime_departure)))
                : clock(d.scheduled_departure)),
            el("td", {}, d.platform || "")))))
        : el("p", {}, t("no_departures")));
    } catch (error) { showError(board, error); }
  });
  return el("div", {}, form, board);
}

async function alertsTab(container) {
  try {
    const { alerts } = await api(`/v1/alerts?lang=${lang}`);
    const byNetwork = new Map();
    for (const alert of alerts) {
      const network = (alert.id || "").split(":")[0] || "?";
      if (!byNetwork.has(network)) byNetwork.set(network, []);
      byNetwork.get(network).push(alert);
    }
    container.replaceChildren(el("h2", {}, t("alerts")), ...(byNetwork.size
      ? [...byNetwork.entries()].sort().map(([network, items]) => el("section", { class: "alerts" },
        el("h3", {}, `${t("network")} ${network}`),
        el("ul", {}, items.map((a) => el("li", {}, el("strong", {}, a.header || a.effect), a.description ? ` — ${a.description}` : "")))))
      : [el("p", {}, t("no_alerts"))]));
  } catch (error) { showError(container, error); }
}

// ------------------------------------------------------------------ the page

function tabs(panels) {
  const list = el("div", { role: "tablist", class: "tabs", "aria-label": "OùRA" });
  const select = (name, focus) => {
    for (const [other, panel] of Object.entries(panels)) {
      const tab = $(`#tab-${other}`);
      tab.setAttribute("aria-selected", String(other === name));
      tab.tabIndex = other === name ? 0 : -1;
      panel.hidden = other !== name;
    }
    if (focus) $(`#tab-${name}`).focus();
    if (name === "alerts") alertsTab(panels.alerts);
    if (name === "plan" && state.map) state.map.resize();
    if (location.hash !== `#${name}`) history.replaceState(null, "", `${location.pathname}${location.search}#${name}`);
  };
  const names = Object.keys(panels);
  for (const name of names) {
    list.append(el("button", { role: "tab", id: `tab-${name}`, "aria-controls": `panel-${name}`, type: "button",
      onclick: () => select(name), onkeydown: (event) => {
        const i = names.indexOf(name);
        if (event.key === "ArrowRight") select(names[(i + 1) % names.length], true);
        if (event.key === "ArrowLeft") select(names[(i - 1 + names.length) % names.length], true);
      } }, t(`tab_${name}`)));
  }
  return { list, select };
}

async function start() {
  document.documentElement.lang = lang;
  document.title = t("title");
  try { state.config = await api("/site/config.json"); } catch { state.config = {}; }
  const other = lang === "fr" ? "en" : "fr";
  const otherUrl = new URLSearchParams(location.search);
  otherUrl.set("lang", other);
  const plan = el("section", { id: "panel-plan", role: "tabpanel", "aria-labelledby": "tab-plan" });
  const departures = el("section", { id: "panel-departures", role: "tabpanel", "aria-labelledby": "tab-departures", hidden: true }, departuresTab());
  const alerts = el("section", { id: "panel-alerts", role: "tabpanel", "aria-labelledby": "tab-alerts", hidden: true });
  const panels = { plan, departures, alerts };
  const tabbar = tabs(panels);
  const form = searchForm();
  const mapElement = el("div", { id: "map", class: "map" });
  plan.append(form, el("div", { class: "plan-body" },
    el("div", { class: "column" }, el("div", { id: "results", "aria-live": "polite" }), el("div", { id: "details" })),
    el("div", { class: "column map-column" }, el("h2", { class: "visually-hidden" }, t("map")), mapElement)));
  $("#app").replaceChildren(
    el("header", { class: "top" }, el("h1", {}, "OùRA"),
      el("a", { class: "lang", href: `/?${otherUrl}${location.hash}`, hreflang: other, lang: other }, t("language"))),
    tabbar.list,
    el("main", { id: "content" }, plan, departures, alerts));
  state.map = new JourneyMap(mapElement, { tileUrl: state.config.tile_url, tileAttribution: state.config.tile_attribution, label: t("map") });
  api("/v1/basemap").then((collection) => { state.basemap = collection; state.map.showBasemap(collection); mapElement.dataset.basemap = "ready"; })
    .catch(() => { mapElement.dataset.basemap = "failed"; });
  const hash = location.hash.slice(1);
  tabbar.select(panels[hash] ? hash : "plan");
  if (restoreForm(form)) runSearch(form);
  const stop = new URLSearchParams(location.search).get("stop");
  if (stop && hash === "departures") {
    $("#board-stop").value = stop;
    $("#board-stop").dataset.id = stop;
    $("#departures-form").requestSubmit();
  }
}

start();
