/* map-view.js — the Leaflet map: panes, initial view, basemap and sites layers.
 *
 * Owns: the L.map in #map with its label, its panes, its first view, the
 * optional raster basemap, the `basemap` and `sites` tile layers, the data
 * credit, and the performance mark maillage:map-ready (the basemap and the
 * sites have drawn; read by tools/bench-page.sh), the metric scale bar,
 * the place labels (labels.js) and the overseas insets (insets.js), whose
 * tiles are asked only after that mark.
 * Invariants:
 *  - panes stack areas (250) < network (330) < établissements (340) <
 *    labels (355, labels.js) < sites (360): the planner's layers and the
 *    place names always lie under the sites;
 *  - the first view is the state's (zoom, then center, else the place
 *    searched at zoom 10), metropolitan France and Corsica when it has none;
 *  - the sites layer asks the server for the state's orpha, role, public
 *    and platform and hides other filières (the tiles carry no platform: the
 *    list, not the map, keeps a platform's sites only); refreshSites() is
 *    called whenever those parts of the state change;
 *  - nothing is requested from any host but our own server unless
 *    config.rasterBasemap is set (off by default).
 * Importing this module creates nothing (it needs Leaflet, window.L, loaded);
 * createMap() builds the map. */
import { config } from './config.js';
import { t } from './i18n.js';
import { vectorLayer } from './mvt-layer.js';
import { basemapStyle, siteStyle, isCluster } from './map-style.js';
import { siteMarkerFactory } from './markers.js';
import { createLabels } from './labels.js';
import { createInsets } from './insets.js';

const LATE_MS = 3000;
const PANES = [['areasPane', 250], ['networkPane', 330], ['etablissementsPane', 340], ['sitesPane', 360]];

/* Sets the view the state asks for (also after back/forward). */
export function showInitialView(map, state) {
    if (state.zoom === undefined && state.center === undefined && state.lat === undefined) {
        map.fitBounds(config.bounds, { animate: false });
        return;
    }
    const zoom = state.zoom ?? (state.lat !== undefined ? 10 : config.zoom);
    const center = state.center ?? (state.lat !== undefined ? [state.lat, state.lon] : config.center);
    map.setView(center, zoom, { animate: false });
}

/* The query parameters of the sites tiles for `state`. */
export function sitesParameters(state) {
    return { orpha: state.orpha, role: state.roles?.join(','), public: state.public, platform: state.platform };
}

/* The sites tiles' filter for `state`: clusters, and sites of the chosen filière. */
export function sitesFilter(state) {
    return (layerName, properties) => {
        if (isCluster(properties)) return true;
        return !(state.filiere && properties.filiere && properties.filiere !== state.filiere);
    };
}

/* Builds the map in `container` for `state` (read live, never replaced).
 * Returns {map, labels, insets, refreshSites(), retranslate()}. */
export function createMap(container, state) {
    const L = window.L;
    const map = L.map(container, { minZoom: 2, maxZoom: 18, zoomSnap: 1, keyboard: true });
    map.attributionControl.setPrefix(false);
    for (const [name, zIndex] of PANES) map.createPane(name).style.zIndex = String(zIndex);
    map.getPane('areasPane').classList.add('areas-pane');
    map.getContainer().setAttribute('aria-label', t('map_label'));
    map.getContainer().setAttribute('role', 'region');
    showInitialView(map, state);

    if (config.rasterBasemap)
        L.tileLayer(config.rasterBasemap.url, { attribution: config.rasterBasemap.attribution }).addTo(map);
    /* A layer whose tiles loaded before this is asked has no 'load' to come. */
    const layerLoaded = (layer) => (layer?.isLoading() ? new Promise((resolve) => layer.once('load', resolve)) : Promise.resolve());
    const basemapReady = vectorLayer('basemap', { style: basemapStyle }).then((layer) => {
        layer?.addTo(map);
        return layer;
    });
    let sitesLayer = null;
    const sitesReady = vectorLayer('sites', {
        style: siteStyle,
        pointToLayer: siteMarkerFactory(map),
        filter: sitesFilter(state),
        pane: 'sitesPane',
        parameters: sitesParameters(state),
    }).then((layer) => {
        sitesLayer = layer?.addTo(map) ?? null;
        sitesLayer?.on('load', () => labels.schedule()); /* site markers are obstacles to labels */
        return sitesLayer;
    });
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    const drawn = Promise.all([basemapReady, sitesReady])
        .then((layers) => Promise.all(layers.map(layerLoaded)))
        .then(() => performance.mark('maillage:map-ready'));
    /* Labels and insets wait for the first paint, or LATE_MS at most. */
    const drawnOrLate = Promise.race([drawn, new Promise((resolve) => setTimeout(resolve, LATE_MS))]);
    const labels = createLabels(map, drawnOrLate);
    const insets = createInsets(map, () => ({ parameters: sitesParameters(state), filter: sitesFilter(state) }), drawnOrLate);

    let attribution = '';
    function setAttribution() {
        if (attribution) map.attributionControl.removeAttribution(attribution);
        attribution = t('data_credit');
        map.attributionControl.addAttribution(attribution);
    }
    setAttribution();

    return {
        map,
        labels,
        insets,
        refreshSites() {
            sitesLayer?.setParameters(sitesParameters(state));
            insets.refreshSites();
        },
        /* After a language change: the map's label and the data credit. */
        retranslate() {
            map.getContainer().setAttribute('aria-label', t('map_label'));
            setAttribution();
            insets.retranslate();
        },
    };
}
