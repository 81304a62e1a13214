/* planner.js — the territory view: filters, thematic layers, legend, selection, export.
 *
 * Owns: the filière and role filters, the network / areas / établissements
 * layers, the choropleth metric, and the "sites in the current view" table
 * that the CSV and GeoJSON exports write. Invariants:
 *  - the table and the exports hold exactly the same features: those of
 *    /api/structures for the map's bounds and the filters (filière and
 *    platform filtered here, since the API filters by orpha and role);
 *  - the table's source column is the short form (sources.js); the CSV and
 *    GeoJSON carry each site's full `source` as the server sends it;
 *  - choropleth metrics are entries of METRICS; a metric whose data source
 *    is not served (coverage, from /api/coverage, until that issue lands)
 *    or that needs a condition not chosen yet is listed but disabled, and
 *    the population metric stays on. */
import { structures, coverage, coverageAvailable, coverageShares } from './api.js';
import { t, roleWords, publicWords, formatInteger, ROLE_NAMES } from './i18n.js';
import { vectorLayer } from './mvt-layer.js';
import { networkStyle, areaStyle, etablissementStyle, choroplethStyle, POPULATION_CLASSES, COVERAGE_CLASSES } from './map-style.js';
import { featuresToCsv, featuresToGeoJson, download } from './export.js';
import { sourceShort, sourceLine } from './sources.js';

const TABLE_ROWS = 300;
const SELECTION_LIMIT = 5000;

/* Choropleth metrics of the areas layer. Each: label and legend keys, the
 * classes, how to print a class bound, whether the server offers it, and
 * load(state) -> a function from area properties to the value classified. */
export const METRICS = {
    population: {
        label: 'metric_population',
        legend: 'population_classes',
        classes: POPULATION_CLASSES,
        format: (value) => formatInteger(value),
        available: () => Promise.resolve(true),
        load: async () => (properties) => properties.population,
    },
    coverage: {
        label: 'metric_coverage',
        legend: 'coverage_classes',
        classes: COVERAGE_CLASSES,
        format: (value) => `${Math.round(value * 100)}\u202f%`,
        needsCondition: true,
        /* /api/coverage answers 404 until the coverage issue lands. */
        available: coverageAvailable,
        load: async (state) => {
            const body = await coverage({ orpha: state.orpha, radius_km: state.radius ?? 100, level: 'departement' });
            const shares = coverageShares(body);
            return (properties) => shares.get(properties.code);
        },
    },
};

function boundsParameter(map) {
    const bounds = map.getBounds();
    const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
    if (bounds.getEast() - bounds.getWest() >= 360) return `-180,${clamp(bounds.getSouth(), 90)},180,${clamp(bounds.getNorth(), 90)}`;
    const wrap = (lon) => ((((lon + 180) % 360) + 360) % 360) - 180;
    return [wrap(bounds.getWest()), clamp(bounds.getSouth(), 90), wrap(bounds.getEast()), clamp(bounds.getNorth(), 90)]
        .map((value) => value.toFixed(5))
        .join(',');
}

export function createPlanner({ map, state, elements, onFiltersChanged }) {
    const layers = {};
    let selection = [];
    let controller = null;
    let timer = 0;
    let active = false;
    let filieresLoaded = false;
    let metricValue = (properties) => properties.population;

    async function layer(name) {
        if (!(name in layers)) {
            const styles = { network: networkStyle, areas: areaStyle, etablissements: etablissementStyle };
            const panes = { network: 'networkPane', areas: 'areasPane', etablissements: 'etablissementsPane' };
            layers[name] = vectorLayer(name, { style: styles[name], pane: panes[name], polygonHits: name === 'areas' });
        }
        return layers[name];
    }

    async function syncLayers() {
        const wanted = {
            network: active && elements.layerNetwork.checked,
            areas: active && elements.layerAreas.checked,
            etablissements: active && elements.layerEtablissements.checked,
        };
        for (const [name, on] of Object.entries(wanted)) {
            const tileLayer = await layer(name);
            if (!tileLayer) continue;
            if (on && !map.hasLayer(tileLayer)) tileLayer.addTo(map);
            if (!on && map.hasLayer(tileLayer)) tileLayer.remove();
            if (name === 'network' && on) tileLayer.setParameters(state.orpha ? { orpha: state.orpha } : {});
        }
        elements.legendAreas.hidden = !wanted.areas;
        for (const item of elements.legendNetwork) item.hidden = !wanted.network;
    }

    function renderRoleFilters() {
        elements.roles.replaceChildren();
        for (const role of ROLE_NAMES) {
            const label = document.createElement('label');
            label.className = 'check';
            const box = document.createElement('input');
            box.type = 'checkbox';
            box.value = role;
            box.checked = state.roles?.includes(role) ?? false;
            box.addEventListener('change', () => {
                state.roles = [...elements.roles.querySelectorAll('input:checked')].map((input) => input.value);
                onFiltersChanged();
            });
            label.append(box, document.createTextNode(` ${roleWords(role)}`));
            elements.roles.append(label);
        }
    }

    async function loadFilieres() {
        if (filieresLoaded) return;
        filieresLoaded = true;
        try {
            const all = await structures({ bbox: '-180,-90,180,90', limit: 10000 });
            const names = [...new Set(all.features.map((feature) => feature.properties.filiere).filter(Boolean))].sort();
            for (const name of names) {
                const option = document.createElement('option');
                option.value = name;
                option.textContent = name;
                elements.filiere.append(option);
            }
            elements.filiere.value = state.filiere ?? '';
        } catch (error) {
            filieresLoaded = false;
            console.warn(`filières: ${error.message}`);
        }
    }

    function currentMetric() {
        return METRICS[state.metric] ?? METRICS.population;
    }

    async function renderMetrics() {
        const options = [];
        for (const [name, metric] of Object.entries(METRICS)) {
            const option = document.createElement('option');
            option.value = name;
            option.textContent = t(metric.label);
            option.disabled = !(await metric.available()) || (metric.needsCondition && !state.orpha);
            options.push(option);
        }
        elements.metric.replaceChildren(...options);
        if (elements.metric.querySelector(`option[value="${state.metric}"]:not([disabled])`) === null) state.metric = undefined;
        elements.metric.value = state.metric ?? 'population';
        elements.radiusField.hidden = elements.metric.value !== 'coverage';
    }

    /* Loads the chosen metric and restyles the areas layer with it. */
    async function applyMetric() {
        const metric = currentMetric();
        try {
            metricValue = await metric.load(state);
        } catch (error) {
            console.warn(`metric ${elements.metric.value}: ${error.message}`);
            state.metric = undefined;
            elements.metric.value = 'population';
            metricValue = (properties) => properties.population;
        }
        const areas = await layer('areas');
        if (areas) {
            areas.options.style = choroplethStyle(metricValue, currentMetric().classes);
            if (map.hasLayer(areas)) areas.redraw();
        }
        renderLegendClasses();
    }

    function renderLegendClasses() {
        const metric = currentMetric();
        elements.legendAreasTitle.textContent = t(metric.legend);
        elements.areaClasses.replaceChildren();
        let lower = 0;
        for (const entry of metric.classes) {
            const item = document.createElement('li');
            const swatch = document.createElement('span');
            swatch.className = `swatch ${entry.swatch}`;
            swatch.setAttribute('aria-hidden', 'true');
            const text =
                entry.upTo === Infinity ? `> ${metric.format(lower)}` : `${metric.format(lower)} – ${metric.format(entry.upTo)}`;
            item.append(swatch, document.createTextNode(` ${text}`));
            elements.areaClasses.append(item);
            lower = entry.upTo;
        }
    }

    function keep(feature) {
        const properties = feature.properties;
        if (state.filiere && properties.filiere !== state.filiere) return false;
        if (state.platform && properties.platform !== state.platform) return false;
        return true;
    }

    function renderSelection(truncated) {
        elements.selectionCount.textContent = t('selection_count', { n: selection.length });
        elements.selectionTruncated.hidden = !truncated;
        const rows = selection.slice(0, TABLE_ROWS).map((feature) => {
            const properties = feature.properties;
            const row = document.createElement('tr');
            for (const value of [
                properties.name,
                properties.centre_label,
                roleWords(properties.role),
                properties.filiere,
                publicWords(properties.public),
            ]) {
                const cell = document.createElement('td');
                cell.textContent = value ?? '';
                row.append(cell);
            }
            // The short form here; the full line as the cell's title, the raw source in the exports.
            const source = document.createElement('td');
            source.className = 'source-cell';
            source.textContent = sourceShort(properties.source);
            source.title = sourceLine(properties.source).text;
            row.append(source);
            return row;
        });
        elements.selectionBody.replaceChildren(...rows);
        elements.exportCsv.disabled = elements.exportGeojson.disabled = selection.length === 0;
    }

    async function refreshSelection() {
        if (!active) return;
        controller?.abort();
        controller = new AbortController();
        try {
            const answer = await structures(
                { bbox: boundsParameter(map), orpha: state.orpha, role: state.roles?.join(','), limit: SELECTION_LIMIT },
                controller.signal,
            );
            selection = answer.features.filter(keep);
            renderSelection(answer.truncated);
        } catch (error) {
            if (error.name === 'AbortError') return;
            selection = [];
            renderSelection(false);
            elements.selectionCount.textContent = t('error', { detail: error.message });
        }
    }

    function scheduleRefresh() {
        clearTimeout(timer);
        timer = setTimeout(refreshSelection, 250);
    }

    elements.filiere.addEventListener('change', () => {
        state.filiere = elements.filiere.value || undefined;
        onFiltersChanged();
    });
    for (const box of [elements.layerNetwork, elements.layerAreas, elements.layerEtablissements])
        box.addEventListener('change', syncLayers);
    elements.metric.addEventListener('change', () => {
        state.metric = elements.metric.value === 'population' ? undefined : elements.metric.value;
        elements.radiusField.hidden = elements.metric.value !== 'coverage';
        onFiltersChanged();
        applyMetric();
    });
    elements.radius.addEventListener('change', () => {
        const radius = Number(elements.radius.value);
        if (!(radius > 0 && radius <= 2000)) return;
        state.radius = radius;
        onFiltersChanged();
        applyMetric();
    });
    elements.exportCsv.addEventListener('click', () =>
        download('maillage-selection.csv', 'text/csv;charset=utf-8', featuresToCsv(selection)),
    );
    elements.exportGeojson.addEventListener('click', () =>
        download('maillage-selection.geojson', 'application/geo+json', featuresToGeoJson(selection)),
    );
    map.on('moveend', scheduleRefresh);

    return {
        async show() {
            active = true;
            elements.section.hidden = false;
            renderRoleFilters();
            elements.radius.value = String(state.radius ?? 100);
            await Promise.all([loadFilieres(), renderMetrics(), syncLayers()]);
            await applyMetric();
            refreshSelection();
        },
        hide() {
            active = false;
            elements.section.hidden = true;
            syncLayers();
        },
        async conditionChanged() {
            if (!active) return;
            await renderMetrics();
            await applyMetric();
        },
        filtersChanged() {
            syncLayers();
            scheduleRefresh();
        },
        retranslate() {
            if (!active) return;
            renderRoleFilters();
            renderLegendClasses();
            renderMetrics();
            renderSelection(!elements.selectionTruncated.hidden);
        },
        selection: () => selection,
        /* Names the département under `latlng` with its figures (text, not colour). */
        async identify(latlng) {
            if (!active || !elements.layerAreas.checked) return null;
            const areas = await layers.areas;
            const found = areas?.shapesAt(latlng).find((properties) => areaStyle('areas', properties, 3));
            if (!found) return null;
            let text = t('area_info', { name: `${found.name} (${found.code})`, population: formatInteger(found.population) });
            const share = metricValue(found);
            if (state.metric === 'coverage' && Number.isFinite(share))
                text += ` ; ${t('area_coverage', { share: METRICS.coverage.format(share), radius: state.radius ?? 100 })}`;
            elements.areaInfo.textContent = text;
            return text;
        },
    };
}
