/* insets.js — the overseas départements beside metropolitan France.
 *
 * Owns: the five insets (Guadeloupe, Martinique, Guyane, La Réunion,
 * Mayotte) shown, as on French national maps, while the main map shows
 * metropolitan France at national zoom: each a button holding a small
 * non-interactive Leaflet map of the département (our basemap and sites
 * tiles, sites drawn on canvas) and its name; activating one (click,
 * Enter, Space) moves the main map there. Invariants:
 *  - the insets are one group of native buttons after the map element in
 *    the document (CSS lays them over the map's right side on wide
 *    screens, as a row under the map on phones);
 *  - an inset map is built the first time the insets are shown, so a page
 *    opened elsewhere asks none of their tiles; its sites tiles take the
 *    same parameters and filter as the main map's (refreshSites());
 *  - nothing inside an inset is focusable or interactive but the button.
 * Importing this module creates nothing; createInsets() needs Leaflet. */
import { t } from './i18n.js';
import { vectorLayer } from './mvt-layer.js';
import { basemapStyle, siteStyle } from './map-style.js';

/* [[south, west], [north, east]] of each département's land. */
export const OVERSEAS = [
    { code: '971', name: 'inset_guadeloupe', bounds: [[15.83, -61.81], [16.52, -61.0]] },
    { code: '972', name: 'inset_martinique', bounds: [[14.38, -61.23], [14.88, -60.81]] },
    { code: '973', name: 'inset_guyane', bounds: [[2.11, -54.6], [5.75, -51.63]] },
    { code: '974', name: 'inset_reunion', bounds: [[-21.39, 55.21], [-20.87, 55.84]] },
    { code: '976', name: 'inset_mayotte', bounds: [[-13.0, 45.01], [-12.64, 45.3]] },
];

/* The national view: the main map centred on metropolitan France (Corsica
 * included) at zoom 6 or less. */
const METROPOLITAN = [[41.0, -5.8], [51.6, 10.0]];
const NATIONAL_ZOOM = 6;

const STILL_MAP = {
    zoomControl: false,
    attributionControl: false,
    dragging: false,
    touchZoom: false,
    scrollWheelZoom: false,
    doubleClickZoom: false,
    boxZoom: false,
    keyboard: false,
    zoomSnap: 0.25,
    zoomAnimation: false,
    fadeAnimation: false,
    inertia: false,
};

/* The insets for the main `map`, placed after its element. sitesOptions()
 * gives the sites layer's {parameters, filter} for the current state; the
 * inset maps are built once `after` resolves (the main map has drawn: their
 * tiles must not delay its first paint).
 * Returns {refreshSites(), retranslate(), describe()}; describe() is for
 * tests: [{code, name, visible, bounds: [west, south, east, north],
 * basemapFeatures, sites: [properties of each point drawn in view]}]. */
export function createInsets(map, sitesOptions, after = Promise.resolve()) {
    const L = window.L;
    const group = document.createElement('div');
    group.className = 'insets';
    group.setAttribute('role', 'group');
    group.hidden = true;
    const insets = OVERSEAS.map((overseas) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'inset';
        button.dataset.code = overseas.code;
        const frame = document.createElement('span');
        frame.className = 'inset-map';
        frame.setAttribute('aria-hidden', 'true');
        const caption = document.createElement('span');
        caption.className = 'inset-caption';
        button.append(frame, caption);
        button.addEventListener('click', () => showOnMainMap(overseas));
        group.append(button);
        return { overseas, button, frame, caption, map: null, basemap: null, sites: null };
    });
    map.getContainer().after(group);
    retranslate();

    function showOnMainMap(overseas) {
        const still = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
        if (still) map.fitBounds(overseas.bounds, { animate: false });
        else map.flyToBounds(overseas.bounds, { duration: 1 });
        map.getContainer().focus({ preventScroll: true });
    }

    function build(inset) {
        inset.map = L.map(inset.frame, STILL_MAP); /* its view: refit() */
        vectorLayer('basemap', { style: basemapStyle }).then((layer) => {
            inset.basemap = layer?.addTo(inset.map) ?? null;
        });
        vectorLayer('sites', { style: siteStyle, ...sitesOptions() }).then((layer) => {
            inset.sites = layer?.addTo(inset.map) ?? null;
        });
    }

    function isNational() {
        return map.getZoom() <= NATIONAL_ZOOM && L.latLngBounds(METROPOLITAN).contains(map.getCenter());
    }

    let started = false;
    /* Shows the insets in the national view (their maps built the first
     * time, once started), hides them elsewhere. */
    function update() {
        const wasShown = !group.hidden;
        group.hidden = !isNational();
        if (group.hidden || !started) return;
        const unbuilt = insets.filter((inset) => !inset.map);
        unbuilt.forEach(build);
        if (unbuilt.length || !wasShown) refit();
    }
    /* The page's layout changed (a phone turned, a window resized, the
     * map shown). An inset not displayed (a phone's list view) has no size
     * to fit: it is fitted when the map, shown, fires 'resize'. */
    function refit() {
        if (group.hidden) return;
        for (const inset of insets) {
            if (!inset.frame.clientWidth || !inset.frame.clientHeight) continue;
            inset.map?.invalidateSize();
            inset.map?.fitBounds(inset.overseas.bounds, { animate: false, padding: [2, 2] });
        }
    }
    map.on('moveend', update);
    map.on('resize', refit);
    map.whenReady(update);
    after.then(() => {
        started = true;
        update();
    });

    function retranslate() {
        group.setAttribute('aria-label', t('insets_label'));
        for (const { overseas, button, caption } of insets) {
            caption.textContent = t(overseas.name);
            button.setAttribute('aria-label', t('inset_show', { name: t(overseas.name) }));
        }
    }

    return {
        refreshSites() {
            const { parameters } = sitesOptions();
            for (const inset of insets) inset.sites?.setParameters(parameters);
        },
        retranslate,
        describe() {
            return insets.map((inset) => {
                const bounds = inset.map?.getBounds();
                return {
                    code: inset.overseas.code,
                    name: inset.caption.textContent,
                    visible: !group.hidden,
                    bounds: bounds ? [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()] : null,
                    basemapFeatures: inset.basemap?.drawn().features ?? 0,
                    sites: (inset.sites?.drawn().points ?? [])
                        .filter((point) => bounds.contains(point.latlng))
                        .map((point) => point.properties),
                };
            });
        },
    };
}
