// The itinerary map (Leaflet): the offline basemap from GET /v1/basemap (or a tile URL when the
// site is configured with one), the legs' GeoJSON, their stops and the vehicles of their lines.
import L from "leaflet";

const RAIL = "#3d3d3d";
const WALK = "#1f5fa8";
const CARPOOL = "#b34700";

export class JourneyMap {
  constructor(element, { tileUrl, tileAttribution, label }) {
    this.element = element;
    this.map = L.map(element, { zoomControl: true, attributionControl: Boolean(tileUrl), preferCanvas: true });
    element.setAttribute("role", "region");
    element.setAttribute("aria-label", label);
    this.map.setView([45.5, 4.9], 8);
    if (tileUrl) L.tileLayer(tileUrl, { attribution: tileAttribution || "", maxZoom: 19 }).addTo(this.map);
    this.base = L.layerGroup().addTo(this.map);
    this.journey = L.layerGroup().addTo(this.map);
    this.vehicles = L.layerGroup().addTo(this.map);
    this.legCount = 0;
  }

  showBasemap(collection) {
    this.base.clearLayers();
    const labelled = [];  // towns labelled so far: a label needs ~0.15° of room (the busiest first)
    const roomFor = (latlng) => labelled.every((p) => Math.abs(p.lat - latlng.lat) > 0.1 || Math.abs(p.lng - latlng.lng) > 0.2);
    const layer = L.geoJSON(collection, {
      style: (feature) => {
        const kind = feature.properties.layer;
        if (kind === "outline") return { color: "#7a8a99", weight: 1, fillColor: "#eef3f6", fillOpacity: 0.6 };
        if (kind === "rail") return { color: RAIL, weight: 2, dashArray: "6 3" };
        return { color: feature.properties.color || "#9aa5b1", weight: 1, opacity: 0.7 };
      },
      pointToLayer: (feature, latlng) => {
        const marker = L.circleMarker(latlng, { radius: 2.5, color: "#555", weight: 1, fillOpacity: 0.8 });
        if (feature.properties.rank <= 120 && labelled.length < 40 && roomFor(latlng)) {
          labelled.push(latlng);
          marker.bindTooltip(feature.properties.name, { permanent: true, direction: "right", className: "town-label" });
        }
        return marker;
      },
    });
    layer.addTo(this.base);
    const bounds = layer.getBounds();
    if (bounds.isValid() && this.legCount === 0) this.map.fitBounds(bounds);
  }

  showItinerary(itinerary) {
    this.journey.clearLayers();
    this.vehicles.clearLayers();
    this.legCount = 0;
    const all = [];
    for (const leg of itinerary.legs) {
      const coords = (leg.geometry?.coordinates || []).map(([lon, lat]) => [lat, lon]);
      if (coords.length < 2) continue;
      const colour = leg.type === "transit" ? (leg.route.color || "#0b6e4f") : leg.type === "carpool" ? CARPOOL : WALK;
      const line = L.polyline(coords, {
        color: colour, weight: leg.type === "transit" ? 5 : 4, dashArray: leg.type === "walk" ? "4 6" : null,
        className: `leg leg-${leg.type}`,
      });
      line.addTo(this.journey);
      this.legCount += 1;
      all.push(...coords);
      for (const end of [leg.from, leg.to]) {
        if (end && typeof end.lat === "number") {
          L.circleMarker([end.lat, end.lon], { radius: 5, color: "#1b1b1b", weight: 2, fillColor: "#fff", fillOpacity: 1 })
            .bindTooltip(end.name).addTo(this.journey);
        }
      }
    }
    if (all.length) this.map.fitBounds(L.latLngBounds(all), { padding: [24, 24] });
    this.element.dataset.legs = String(this.legCount);
  }

  showVehicles(vehicles) {
    this.vehicles.clearLayers();
    for (const vehicle of vehicles) {
      if (typeof vehicle.lat !== "number") continue;
      L.circleMarker([vehicle.lat, vehicle.lon], { radius: 6, color: "#7a0177", weight: 2, fillColor: "#f768a1", fillOpacity: 1 })
        .bindTooltip(vehicle.label || vehicle.vehicle_id || "").addTo(this.vehicles);
    }
    this.element.dataset.vehicles = String(vehicles.length);
  }

  resize() {
    this.map.invalidateSize();
  }
}
