/* app.js — the page controller: map, patient search, planner, embed, share.
 *
 * Owns: wiring the DOM of index.html and embed.html (body[data-mode] is
 * "full" or "embed") to the API, the map and the URL state. Invariants:
 *  - `state` (state.js) is the one description of the view; every change
 *    goes through it and is written to the URL (a search pushes a history
 *    entry, a map move replaces it), and popstate re-applies the URL;
 *  - the list is the equivalent of the map: every marker is a numbered list
 *    entry and both link to each other (click, keyboard);
 *  - nothing is requested from any host but our own server unless
 *    config.rasterBasemap is set (off by default);
 *  - window.maillage exposes {map, state} for tests and debugging only. */
import { config } from './config.js';
import { t, translateDocument, language, formatKilometres, roleWords } from './i18n.js';
import { searchConditions, searchPlaces, nearest } from './api.js';
import { createCombobox } from './combobox.js';
import { readState, writeState, stateQuery } from './state.js';
import { vectorLayer } from './mvt-layer.js';
import { basemapStyle, siteStyle, isCluster } from './map-style.js';
import { groupByHospital, renderResults, renderNoSite } from './results.js';
import { createPlanner } from './planner.js';

const L = window.L;
const mode = document.body.dataset.mode === 'embed' ? 'embed' : 'full';
const byId = (id) => document.getElementById(id);

let state = readState();
if (state.lang) document.documentElement.lang = state.lang;
translateDocument();

/* ---- map ---- */

const map = L.map('map', { minZoom: 2, maxZoom: 18, zoomSnap: 1, keyboard: true });
map.attributionControl.setPrefix(false);
for (const [name, zIndex] of [['areasPane', 250], ['networkPane', 330], ['etablissementsPane', 340], ['sitesPane', 360]])
    map.createPane(name).style.zIndex = String(zIndex);
map.getPane('areasPane').classList.add('areas-pane');
map.getContainer().setAttribute('aria-label', t('map_label'));
map.getContainer().setAttribute('role', 'region');

function initialView() {
    if (state.zoom === undefined && state.center === undefined && state.lat === undefined) {
        map.fitBounds(config.bounds, { animate: false });
        return;
    }
    const zoom = state.zoom ?? (state.lat !== undefined ? 10 : config.zoom);
    const center = state.center ?? (state.lat !== undefined ? [state.lat, state.lon] : config.center);
    map.setView(center, zoom, { animate: false });
}
initialView();

if (config.rasterBasemap) L.tileLayer(config.rasterBasemap.url, { attribution: config.rasterBasemap.attribution }).addTo(map);
/* The first view is "meaningful" once the basemap and the sites have drawn:
 * marked for tools/bench-page.sh (performance mark maillage:map-ready). */
const layerLoaded = (layer) => (layer ? new Promise((resolve) => layer.once('load', resolve)) : Promise.resolve());
const basemapReady = vectorLayer('basemap', { style: basemapStyle }).then((layer) => {
    layer?.addTo(map);
    return layer;
});

function sitesFilter(layerName, properties) {
    if (isCluster(properties)) return true;
    if (state.filiere && properties.filiere && properties.filiere !== state.filiere) return false;
    if (state.platform && properties.platform !== undefined && properties.platform !== state.platform) return false;
    return true;
}
function sitesParameters() {
    return { orpha: state.orpha, role: state.roles?.join(','), public: state.public, platform: state.platform };
}
/* Runs `handler` on a marker's click and on Enter or Space while it has the
 * focus (Leaflet markers are role=button but only popups handle Enter). */
function onActivate(marker, handler) {
    marker.on('click', handler);
    marker.on('keypress', (event) => {
        const key = event.originalEvent.key;
        if (key === 'Enter' || key === ' ') {
            event.originalEvent.preventDefault();
            handler();
        }
    });
}

/* Sites and clusters of the `sites` tiles as markers (keyboard buttons). */
function siteMarker(properties, latlng) {
    const text = document.createElement('span');
    if (isCluster(properties)) {
        const count = Number(properties.point_count ?? 1);
        text.textContent = String(count);
        const size = Math.round(Math.min(44, 24 + Math.log2(Math.max(count, 1)) * 4));
        const label = t('zoom_in_cluster', { n: count });
        const marker = L.marker(latlng, {
            icon: L.divIcon({ className: 'cluster-marker', html: text, iconSize: [size, size] }),
            title: label,
            pane: 'sitesPane',
        });
        marker.on('add', () => marker.getElement()?.setAttribute('aria-label', label));
        onActivate(marker, () => {
            const target = Number(properties.expansion_zoom);
            const zoom = Number.isFinite(target) && target > map.getZoom() ? target : map.getZoom() + 2;
            map.setView(latlng, Math.min(zoom, map.getMaxZoom()));
        });
        return marker;
    }
    const sites = sitesOfHits([{ properties }]);
    const folded = sites.length > 1;
    text.textContent = folded ? String(sites.length) : '';
    const coordinating = sites.some((site) => site.role === 'crmr_coordonnateur' || site.role === 'platform_coordinator');
    const label = folded ? `${properties.name ?? ''} : ${t('sites_count', { n: sites.length })}` : (properties.name ?? properties.site_id ?? '');
    const marker = L.marker(latlng, {
        icon: L.divIcon({
            className: `site-marker${coordinating ? ' is-coordinating' : ''}${folded ? ' is-folded' : ''}`,
            html: text,
            iconSize: folded ? [22, 22] : [14, 14],
        }),
        title: label,
        pane: 'sitesPane',
    });
    marker.on('add', () => {
        const element = marker.getElement();
        element?.setAttribute('aria-label', label);
        if (element) element.dataset.siteIds = sites.map((site) => site.site_id).join(' ');
    });
    marker.bindPopup(() => sitePopup(sites));
    return marker;
}

let sitesLayer = null;
const sitesReady = vectorLayer('sites', {
    style: siteStyle,
    pointToLayer: siteMarker,
    filter: sitesFilter,
    pane: 'sitesPane',
    parameters: sitesParameters(),
}).then((layer) => {
    sitesLayer = layer?.addTo(map) ?? null;
    return sitesLayer;
});
Promise.all([basemapReady, sitesReady])
    .then((layers) => Promise.all(layers.map(layerLoaded)))
    .then(() => performance.mark('maillage:map-ready'));

const markers = L.layerGroup().addTo(map);
const markerByKey = new Map();

let attribution = '';
function setAttribution() {
    if (attribution) map.attributionControl.removeAttribution(attribution);
    attribution = t('data_credit');
    map.attributionControl.addAttribution(attribution);
}
setAttribution();

/* ---- patient search ---- */

const elements = {
    conditionInput: byId('condition-input'),
    placeInput: byId('place-input'),
    status: byId('combobox-status'),
    intro: byId('results-intro'),
    message: byId('results-message'),
    list: byId('results-list'),
    geolocate: byId('geolocate-button'),
};
let lastAnswer = null;
let searchController = null;

createCombobox({
    input: elements.conditionInput,
    listbox: byId('condition-listbox'),
    status: elements.status,
    search: async (text, signal) => (await searchConditions(text, language(), signal)).results,
    describe: (item) => ({
        primary: item.label,
        secondary: [
            `ORPHA:${item.orpha}`,
            item.matched && item.matched !== item.label ? `« ${item.matched} »` : '',
            t('sites_count', { n: item.sites ?? 0 }),
        ]
            .filter(Boolean)
            .join(' · '),
    }),
    onSelect: (item) => {
        state.orpha = item.orpha;
        state.condition = item.label;
        conditionChanged();
        search({ push: true, fit: true });
    },
});

createCombobox({
    input: elements.placeInput,
    listbox: byId('place-listbox'),
    status: elements.status,
    search: async (text, signal) => (await searchPlaces(text, signal)).results.filter((place) => place.lat !== null && place.lat !== undefined),
    describe: (place) => ({
        primary: place.name,
        secondary: [place.departement, (place.postcodes ?? []).slice(0, 3).join(', ')].filter(Boolean).join(' · '),
    }),
    onSelect: (place) => {
        choosePlace(Number(place.lat), Number(place.lon), place.name);
    },
});

elements.conditionInput.addEventListener('input', () => {
    if (elements.conditionInput.value.trim() === '' && state.orpha) {
        state.orpha = undefined;
        state.condition = undefined;
        conditionChanged();
        search({ push: true });
    }
});

function conditionChanged() {
    sitesLayer?.setParameters(sitesParameters());
    planner?.filtersChanged();
    planner?.conditionChanged();
}

function choosePlace(lat, lon, label) {
    state.lat = lat;
    state.lon = lon;
    state.place = label;
    state.center = undefined;
    elements.placeInput.value = label || placeLabel();
    search({ push: true, fit: true });
}

const publicSelect = byId('public-select');
publicSelect?.addEventListener('change', () => {
    state.public = publicSelect.value || undefined;
    conditionChanged();
    search({ push: true });
});

elements.geolocate?.addEventListener('click', () => {
    if (!navigator.geolocation) {
        elements.intro.textContent = t('geolocation_failed');
        return;
    }
    elements.intro.textContent = t('geolocating');
    navigator.geolocation.getCurrentPosition(
        (position) => choosePlace(position.coords.latitude, position.coords.longitude, t('my_position')),
        () => {
            elements.intro.textContent = t('geolocation_failed');
        },
        { timeout: 10000, maximumAge: 600000 },
    );
});

function placeLabel() {
    return state.place || t('chosen_point', { lat: state.lat.toFixed(4), lon: state.lon.toFixed(4) });
}

function highlight(key, { focusList = false, focusMarker = false } = {}) {
    for (const item of elements.list.querySelectorAll('.result'))
        item.classList.toggle('is-active', item.dataset.key === key);
    for (const [markerKey, marker] of markerByKey) marker.getElement()?.classList.toggle('is-active', markerKey === key);
    const item = [...elements.list.querySelectorAll('.result')].find((entry) => entry.dataset.key === key);
    if (focusList && item) {
        item.scrollIntoView({ block: 'nearest' });
        item.focus({ preventScroll: true });
    }
    if (focusMarker) markerByKey.get(key)?.getElement()?.focus();
}

function drawMarkers(groups) {
    markers.clearLayers();
    markerByKey.clear();
    if (state.lat === undefined) return;
    const you = document.createElement('span');
    you.className = 'place-symbol';
    you.textContent = '★';
    L.marker([state.lat, state.lon], {
        icon: L.divIcon({ className: 'place-marker', html: you, iconSize: [26, 26] }),
        keyboard: false,
        interactive: false,
        title: placeLabel(),
        zIndexOffset: -100,
    }).addTo(markers);
    for (const group of groups) {
        const label = t('marker_label', { rank: group.rank, name: group.name, km: formatKilometres(group.distance) });
        const number = document.createElement('span');
        number.textContent = String(group.rank);
        const marker = L.marker([group.lat, group.lon], {
            icon: L.divIcon({ className: 'rank-marker', html: number, iconSize: [30, 30] }),
            title: label,
            riseOnHover: true,
            zIndexOffset: 1000 - group.rank,
        }).addTo(markers);
        const element = marker.getElement();
        element.setAttribute('aria-label', label);
        element.dataset.siteIds = group.sites.map((site) => site.site_id).join(' ');
        element.dataset.rank = String(group.rank);
        onActivate(marker, () => highlight(group.key, { focusList: true }));
        markerByKey.set(group.key, marker);
    }
}

function fitResults(groups) {
    const points = [[state.lat, state.lon], ...groups.slice(0, 5).map((group) => [group.lat, group.lon])];
    map.fitBounds(L.latLngBounds(points), { padding: [48, 48], maxZoom: 12, animate: false });
}

function renderAnswer() {
    if (!lastAnswer) return;
    const { body, groups } = lastAnswer;
    elements.intro.textContent = state.orpha
        ? t('results_intro_condition', { condition: state.condition || `ORPHA:${state.orpha}`, place: placeLabel() })
        : t('results_intro_all', { place: placeLabel() });
    if (groups.length === 0) renderNoSite(elements.message, body);
    else elements.message.replaceChildren();
    renderResults(elements.list, groups, {
        from: { lat: state.lat, lon: state.lon },
        queryOrpha: state.orpha,
        onShow: (group) => {
            map.setView([group.lat, group.lon], Math.max(map.getZoom(), 12));
            highlight(group.key, { focusMarker: true });
        },
    });
    drawMarkers(groups);
}

/* Runs /api/nearest for the state's place and condition and shows it.
 * push: a new history entry; fit: move the map to the results. */
async function search({ push = false, fit = false } = {}) {
    writeState(state, { push });
    if (state.lat === undefined) {
        lastAnswer = null;
        elements.intro.textContent = t('results_none_place');
        elements.message.replaceChildren();
        elements.list.replaceChildren();
        drawMarkers([]);
        return;
    }
    searchController?.abort();
    const controller = new AbortController();
    searchController = controller;
    elements.intro.textContent = t('loading');
    document.body.classList.add('is-loading');
    try {
        const body = await nearest(
            {
                lat: state.lat.toFixed(6),
                lon: state.lon.toFixed(6),
                orpha: state.orpha,
                k: state.platform ? 100 : config.nearestCount,
                role: state.roles?.join(','),
                public: state.public,
            },
            controller.signal,
        );
        let results = body.results ?? [];
        if (state.platform) results = results.filter((result) => result.platform === state.platform).slice(0, config.nearestCount);
        lastAnswer = { body, groups: groupByHospital(results) };
        renderAnswer();
        if (fit) {
            fitResults(lastAnswer.groups);
            state.zoom = map.getZoom();
            writeState(state);
        }
    } catch (error) {
        if (error.name === 'AbortError') return;
        lastAnswer = null;
        elements.list.replaceChildren();
        drawMarkers([]);
        elements.intro.textContent = t('error', { detail: error.message });
    } finally {
        if (searchController === controller) document.body.classList.remove('is-loading');
    }
}

/* The condition's label in the current language, when only its code is known. */
async function labelCondition() {
    if (!state.orpha) {
        elements.conditionInput.value = '';
        return;
    }
    elements.conditionInput.value = state.condition ?? `ORPHA:${state.orpha}`;
    try {
        const answer = await searchConditions(`ORPHA:${state.orpha}`, language());
        const found = answer.results.find((item) => item.orpha === state.orpha);
        if (found) {
            state.condition = found.label;
            elements.conditionInput.value = found.label;
            if (lastAnswer) renderAnswer();
            writeState(state);
        }
    } catch (error) {
        console.warn(`condition ${state.orpha}: ${error.message}`);
    }
}

/* ---- map interaction ---- */

/* The sites under a click: a point may fold several sites ('|'-joined lists). */
function sitesOfHits(hits) {
    const sites = [];
    for (const { properties } of hits) {
        if (Number(properties.count ?? 1) > 1 && properties.site_ids) {
            const split = (name) => String(properties[name] ?? '').split('|');
            const [names, centres, roles] = [split('names'), split('centre_labels'), split('roles')];
            split('site_ids').forEach((siteId, index) =>
                sites.push({ site_id: siteId, name: names[index], centre_label: centres[index], role: roles[index] }),
            );
        } else sites.push(properties);
    }
    return sites;
}

function sitePopup(sites) {
    const box = document.createElement('div');
    box.className = 'site-popup';
    for (const site of sites.slice(0, 12)) {
        const title = document.createElement('p');
        title.className = 'popup-title';
        title.textContent = site.name ?? site.site_id ?? '';
        const detail = document.createElement('p');
        detail.textContent = [site.centre_label, roleWords(site.role)].filter(Boolean).join(' — ');
        box.append(title, detail);
    }
    return box;
}

map.on('click', async (event) => {
    if (state.view !== 'planner') {
        choosePlace(event.latlng.lat, event.latlng.lng, '');
        return;
    }
    const text = await planner?.identify(event.latlng);
    if (text) L.popup().setLatLng(event.latlng).setContent(text).openOn(map);
});

map.on('moveend', () => {
    state.zoom = map.getZoom();
    const center = map.getCenter();
    const atPlace = state.lat !== undefined && map.distance(center, [state.lat, state.lon]) < 50;
    state.center = atPlace ? undefined : [center.lat, center.lng];
    writeState(state);
});

/* ---- views, language, share ---- */

const planner =
    mode === 'full'
        ? createPlanner({
              map,
              state,
              elements: {
                  section: byId('planner'),
                  filiere: byId('filiere-select'),
                  roles: byId('role-filters'),
                  layerNetwork: byId('layer-network'),
                  layerAreas: byId('layer-areas'),
                  layerEtablissements: byId('layer-etablissements'),
                  metric: byId('metric-select'),
                  legendAreas: byId('legend-areas'),
                  legendNetwork: document.querySelectorAll('.legend-network'),
                  areaClasses: byId('area-classes'),
                  areaInfo: byId('area-info'),
                  legendAreasTitle: byId('legend-areas-title'),
                  radius: byId('radius-input'),
                  radiusField: byId('radius-field'),
                  selectionCount: byId('selection-count'),
                  selectionTruncated: byId('selection-truncated'),
                  selectionBody: byId('selection-body'),
                  exportCsv: byId('export-csv'),
                  exportGeojson: byId('export-geojson'),
              },
              onFiltersChanged: () => {
                  sitesLayer?.setParameters(sitesParameters());
                  planner.filtersChanged();
                  writeState(state);
                  search();
              },
          })
        : null;

function applyView() {
    if (mode !== 'full') return;
    const planning = state.view === 'planner';
    byId('view-patient').setAttribute('aria-pressed', String(!planning));
    byId('view-planner').setAttribute('aria-pressed', String(planning));
    document.body.classList.toggle('is-planner', planning);
    if (planning) planner.show();
    else planner.hide();
    map.invalidateSize();
}

for (const [id, view] of [['view-patient', 'patient'], ['view-planner', 'planner']])
    byId(id)?.addEventListener('click', () => {
        state.view = view === 'planner' ? 'planner' : undefined;
        writeState(state, { push: true });
        applyView();
    });

byId('language-button')?.addEventListener('click', () => {
    const next = language() === 'fr' ? 'en' : 'fr';
    document.documentElement.lang = next;
    state.lang = next;
    translateDocument();
    byId('language-button').setAttribute('lang', next === 'fr' ? 'en' : 'fr');
    map.getContainer().setAttribute('aria-label', t('map_label'));
    setAttribution();
    writeState(state);
    planner?.retranslate();
    renderAnswer();
    if (!lastAnswer) elements.intro.textContent = t('results_none_place');
    labelCondition();
});

function embedUrl() {
    const embedState = {
        orpha: state.orpha,
        lat: state.lat,
        lon: state.lon,
        place: state.place,
        zoom: map.getZoom(),
        platform: state.platform,
        public: state.public,
        lang: state.lang,
    };
    return new URL(`embed${stateQuery(embedState)}`, new URL('./', location.href)).href;
}

function fullUrl() {
    const fullState = { ...state, view: mode === 'embed' ? undefined : state.view };
    return new URL(`./${stateQuery(fullState)}`, location.href).href;
}

const dialog = byId('share-dialog');
byId('share-button')?.addEventListener('click', () => {
    byId('permalink').value = fullUrl();
    byId('iframe-snippet').value =
        `<iframe src="${embedUrl()}" title="${t('embed_title')}" width="100%" height="520" loading="lazy"></iframe>`;
    dialog.showModal();
});
for (const button of document.querySelectorAll('[data-copy]'))
    button.addEventListener('click', async () => {
        const field = byId(button.dataset.copy);
        field.select();
        try {
            await navigator.clipboard.writeText(field.value);
        } catch {
            document.execCommand?.('copy');
        }
        button.textContent = t('copied');
        setTimeout(() => (button.textContent = t('copy')), 1500);
    });
byId('share-close')?.addEventListener('click', () => dialog.close());

const openFull = byId('open-full');
function updateOpenFull() {
    if (openFull) openFull.href = fullUrl();
}
map.on('moveend', updateOpenFull);

/* ---- start and history ---- */

async function applyState({ fromHistory = false } = {}) {
    if (state.lang && state.lang !== language()) {
        document.documentElement.lang = state.lang;
        translateDocument();
    }
    elements.placeInput.value = state.place ?? (state.lat !== undefined ? placeLabel() : '');
    if (publicSelect) publicSelect.value = state.public ?? '';
    if (fromHistory) initialView();
    applyView();
    sitesLayer?.setParameters(sitesParameters());
    await Promise.all([labelCondition(), search()]);
    updateOpenFull();
}

window.addEventListener('popstate', () => {
    state = Object.assign(state, Object.fromEntries(Object.keys(state).map((key) => [key, undefined])), readState());
    applyState({ fromHistory: true });
});

applyState();

window.maillage = { map, get state() { return state; } };
