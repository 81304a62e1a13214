/* service-areas.js — the planner's optional "service areas" layer.
 *
 * Owns: whether the server offers /api/service-areas, the toggle's
 * visibility, and the cells drawn on the map (outlines in their own pane,
 * between the areas and the network links). The answer is a GeoJSON
 * FeatureCollection of cells, properties {site_ids: [...], position:
 * [lon, lat], population}, for the same selection of sites as the
 * coverage (orpha or filiere, role, public). Invariants:
 *  - the server is asked once whether it has the route: a HEAD request for
 *    the first selection (the cells can weigh megabytes: they follow the
 *    coast at full detail, so they are fetched only to be shown); a 404
 *    hides the toggle for good, quietly (no message, no later request);
 *    any other answer shows it;
 *  - cells are requested only while the toggle is on, the newest
 *    selection's answer only is drawn (kept for its selection), and an
 *    error is said in the status line, never thrown;
 *  - the cells are outlines only (no fill), so the coverage colours under
 *    them stay readable, and are not interactive (a click still names the
 *    area under it); a cell with a null geometry (a position that serves
 *    no land) draws nothing.
 * Importing this module creates nothing; createServiceAreas() needs a map. */
import { apiUrl, serviceAreas } from './api.js';
import { t } from './i18n.js';

const PANE = 'serviceAreasPane';
const STYLE = { color: '#1b1b1b', weight: 1.5, opacity: 0.9, fill: false, dashArray: '6 4' };

/* `elements`: field (the toggle's label, hidden until the server has the
 * route), toggle (the checkbox), status (a live line), legend (the legend
 * entry). Returns {update(parameters, active), available()}. */
export function createServiceAreas({ map, elements }) {
    const L = window.L;
    let served = null; /* null: not asked yet; false: 404; true: offered */
    let probe = null;
    let cache = { url: null, data: null };
    let drawn = { url: null, layer: null };
    let wanted = { parameters: null, active: false };
    let controller = null;

    function clear() {
        drawn.layer?.remove();
        drawn = { url: null, layer: null };
        elements.legend.hidden = true;
    }

    async function fetchCells(parameters) {
        const url = apiUrl('api/service-areas', parameters);
        if (cache.url === url) return { url, data: cache.data };
        controller?.abort();
        controller = new AbortController();
        const data = await serviceAreas(parameters, controller.signal);
        cache = { url, data };
        return { url, data };
    }

    /* The probe: once, a HEAD request for this selection. */
    async function ask(parameters) {
        if (served === null) {
            probe ??= fetch(apiUrl('api/service-areas', parameters), { method: 'HEAD' }).then(
                (response) => {
                    served = response.status !== 404;
                },
                () => {
                    probe = null; /* no answer at all: ask again next time */
                },
            );
            await probe;
        }
        elements.field.hidden = served !== true;
    }

    async function update(parameters, active) {
        wanted = { parameters, active };
        if (served === false) return;
        if (!active || !parameters) {
            clear();
            elements.status.textContent = '';
            return;
        }
        await ask(parameters);
        if (served !== true || wanted.parameters !== parameters) return;
        if (!elements.toggle.checked) {
            clear();
            elements.status.textContent = '';
            return;
        }
        const url = apiUrl('api/service-areas', parameters);
        if (drawn.url === url) return;
        try {
            const { data } = await fetchCells(parameters);
            if (wanted.parameters !== parameters || !elements.toggle.checked) return;
            if (!map.getPane(PANE)) map.createPane(PANE).style.zIndex = '320';
            clear();
            drawn = { url, layer: L.geoJSON(data, { pane: PANE, interactive: false, style: () => STYLE }).addTo(map) };
            elements.legend.hidden = false;
            elements.status.textContent = '';
        } catch (error) {
            if (error.name === 'AbortError') return;
            clear();
            elements.status.textContent = t('service_areas_error', { detail: error.message });
        }
    }

    elements.toggle.addEventListener('change', () => update(wanted.parameters, wanted.active));

    return { update, available: () => served };
}
