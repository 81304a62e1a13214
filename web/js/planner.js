/* planner.js — the territory view: filters, coverage, thematic layers, legend, selection, export.
 *
 * Owns: the filière and role filters, the coverage controls (radius, level)
 * and section (coverage-panel.js), the network / areas / service areas /
 * établissements layers, the choropleth metric and its legend (a map
 * control), and the "sites in the current view" table that the CSV and
 * GeoJSON exports write. Invariants:
 *  - the sites table and its exports hold exactly the same features: those
 *    of /api/structures for the map's bounds and the filters (filière and
 *    platform filtered here, since the API filters by orpha and role);
 *  - the sites table's source column is the short form (sources.js); the
 *    CSV and GeoJSON carry each site's full `source` as the server sends it;
 *  - the coverage question is the state's (coverage.js: the condition, else
 *    the filière; roles and public; radius_km, level); one /api/coverage
 *    answer per question feeds the choropleth, the tables, the popup and
 *    the coverage CSV, and only the newest question's answer is shown;
 *  - choropleth metrics are entries of METRICS; a metric whose data source
 *    is not served or that needs a condition or filière not chosen yet is
 *    listed but disabled. Without an explicit choice (state.metric), the
 *    map shows the coverage as soon as it can, else the population;
 *  - the legend writes every class's limits, and a click on an area says
 *    its figures in words (no information by colour alone). */
import { structures, coverage, coverageAvailable, coverageShares, apiUrl } from './api.js';
import { t, roleWords, publicWords, formatInteger, formatShare, ROLE_NAMES } from './i18n.js';
import { vectorLayer } from './mvt-layer.js';
import { networkStyle, areaStyle, etablissementStyle, choroplethStyle, POPULATION_CLASSES, COVERAGE_CLASSES } from './map-style.js';
import { featuresToCsv, featuresToGeoJson, download } from './export.js';
import { sourceShort, sourceLine } from './sources.js';
import { writeState } from './state.js';
import { FILIERES } from './filieres.js';
import { RADII_KM, DEFAULT_RADIUS_KM, coverageParameters, selectionParameters, coverageToCsv, coverageFileName } from './coverage.js';
import { renderCoverage, clearCoverage, areaFigures, radiusWords } from './coverage-panel.js';
import { createServiceAreas } from './service-areas.js';

const TABLE_ROWS = 300;
const SELECTION_LIMIT = 5000;

const population = (properties) => properties.population;

/* Choropleth metrics of the areas layer. Each: its label key, legend(state)
 * (the legend's title), the classes, how to print a class bound (`top`: the
 * last class's upper bound, else "> lower"), whether the server offers it,
 * whether it needs a condition or filière, and load(state, {coverageBody})
 * -> {valueOf: area properties -> the value classified, level: the areas
 * drawn, body: the answer it came from or null}. */
export const METRICS = {
    population: {
        label: 'metric_population',
        legend: () => t('population_classes'),
        classes: POPULATION_CLASSES,
        format: (value) => formatInteger(value),
        available: () => Promise.resolve(true),
        load: async () => ({ valueOf: population, level: 'departement', body: null }),
    },
    coverage: {
        label: 'metric_coverage',
        legend: (state) =>
            t(`coverage_classes_${state.level === 'region' ? 'region' : 'departement'}`, {
                radius: radiusWords(state.radius ?? DEFAULT_RADIUS_KM),
            }),
        classes: COVERAGE_CLASSES,
        format: (value) => formatShare(value, 0),
        top: 1,
        needsSelection: true,
        available: coverageAvailable,
        load: async (state, { coverageBody }) => {
            const body = await coverageBody();
            const shares = coverageShares(body);
            return { valueOf: (properties) => shares.get(properties.code), level: body.query.level, body };
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

function option(value, text) {
    const element = document.createElement('option');
    element.value = value;
    element.textContent = text;
    return element;
}

export function createPlanner({ map, state, elements, onFiltersChanged }) {
    const L = window.L;
    const layers = {};
    let selection = [];
    let controller = null;
    let timer = 0;
    let active = false;
    /* What the areas layer shows: {name, valueOf, level, body}. */
    let painted = { name: 'population', valueOf: population, level: 'departement', body: null };
    let paintGeneration = 0;
    /* The coverage answer the section shows (null: none). */
    let shownCoverage = null;
    let coverageGeneration = 0;
    let coverageCache = { url: null, promise: null };
    const availability = {};
    const enabled = { population: true, coverage: false };
    let pendingUpdate = null;

    const serviceAreas = createServiceAreas({
        map,
        elements: {
            field: elements.serviceAreasField,
            toggle: elements.layerServiceAreas,
            status: elements.serviceAreasStatus,
            legend: elements.legendServiceAreas,
        },
    });

    /* The choropleth's legend is a map control (bottom left), hidden with the areas layer. */
    const legendControl = L.control({ position: 'bottomleft' });
    legendControl.onAdd = () => {
        L.DomEvent.disableClickPropagation(elements.legendAreas);
        L.DomEvent.disableScrollPropagation(elements.legendAreas);
        return elements.legendAreas;
    };
    legendControl.addTo(map);

    for (const name of FILIERES) elements.filiere.append(option(name, name));

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

    /* The filière select shows the state's filière, even one not in the list. */
    function showFiliere() {
        if (state.filiere && ![...elements.filiere.options].some((entry) => entry.value === state.filiere))
            elements.filiere.append(option(state.filiere, state.filiere));
        elements.filiere.value = state.filiere ?? '';
    }

    /* The radius choices (and the URL's radius when it is none of them) and the level. */
    function renderCoverageControls() {
        const radius = state.radius ?? DEFAULT_RADIUS_KM;
        const radii = RADII_KM.includes(radius) ? RADII_KM : [...RADII_KM, radius].sort((a, b) => a - b);
        elements.radius.replaceChildren(...radii.map((km) => option(String(km), t('radius_option', { km: radiusWords(km) }))));
        elements.radius.value = String(radius);
        for (const input of elements.levels) input.checked = input.value === (state.level === 'region' ? 'region' : 'departement');
    }

    function renderSelectionLine() {
        let text;
        if (availability.coverage === false) text = t('coverage_unavailable');
        else if (state.orpha) {
            const answered = shownCoverage?.query.orpha === state.orpha ? shownCoverage.query.label : null;
            text = t('coverage_of_condition', { label: state.condition || answered || `ORPHA:${state.orpha}` });
            if (state.filiere) text += ` ${t('coverage_filiere_ignored')}`;
        } else if (state.filiere) text = t('coverage_of_filiere', { filiere: state.filiere });
        else text = t('coverage_choose');
        elements.coverageSelection.textContent = text;
    }

    async function isAvailable(name) {
        availability[name] ??= await METRICS[name].available();
        return availability[name];
    }

    function defaultMetric() {
        return enabled.coverage ? 'coverage' : 'population';
    }

    function chosenMetric() {
        return state.metric && enabled[state.metric] ? state.metric : defaultMetric();
    }

    async function renderMetrics() {
        const options = [];
        for (const [name, metric] of Object.entries(METRICS)) {
            enabled[name] = (await isAvailable(name)) && !(metric.needsSelection && !selectionParameters(state));
            const entry = option(name, t(metric.label));
            entry.disabled = !enabled[name];
            options.push(entry);
        }
        elements.metric.replaceChildren(...options);
        if (state.metric && !enabled[state.metric]) state.metric = undefined;
        elements.metric.value = chosenMetric();
    }

    /* The coverage answer for the state's question (one request per question). */
    function coverageBody() {
        const parameters = coverageParameters(state);
        if (!parameters) return Promise.reject(new Error('no condition or filière chosen'));
        const url = apiUrl('api/coverage', parameters);
        if (coverageCache.url !== url) {
            const promise = coverage(parameters);
            coverageCache = { url, promise };
            promise.catch(() => {
                if (coverageCache.promise === promise) coverageCache = { url: null, promise: null };
            });
        }
        return coverageCache.promise;
    }

    function coverageElements() {
        return {
            status: elements.coverageStatus,
            message: elements.coverageMessage,
            totalsBody: elements.coverageTotalsBody,
            note: elements.coverageNote,
            caption: elements.coverageCaption,
            areaHeader: elements.coverageAreaHeader,
            areasBody: elements.coverageBody,
            exportCsv: elements.coverageExportCsv,
        };
    }

    /* The coverage section for the state's question. */
    async function refreshCoverage() {
        const generation = ++coverageGeneration;
        if (!enabled.coverage) {
            shownCoverage = null;
            elements.coverage.hidden = true;
            clearCoverage(coverageElements());
            return;
        }
        elements.coverage.hidden = false;
        elements.coverageStatus.textContent = t('coverage_loading');
        try {
            const body = await coverageBody();
            if (generation !== coverageGeneration) return;
            shownCoverage = body;
            renderCoverage(coverageElements(), body);
            renderSelectionLine();
        } catch (error) {
            if (generation !== coverageGeneration) return;
            shownCoverage = null;
            clearCoverage(coverageElements(), t('error', { detail: error.message }));
        }
    }

    /* Loads the chosen metric and restyles the areas layer with it. */
    async function applyMetric() {
        const generation = ++paintGeneration;
        let name = chosenMetric();
        let loaded;
        try {
            loaded = await METRICS[name].load(state, { coverageBody });
        } catch (error) {
            console.warn(`metric ${name}: ${error.message}`);
            name = 'population';
            loaded = await METRICS.population.load(state);
        }
        if (generation !== paintGeneration) return;
        painted = { name, ...loaded };
        const areas = await layer('areas');
        if (generation !== paintGeneration) return;
        if (areas) {
            areas.options.style = choroplethStyle(painted.valueOf, METRICS[name].classes, painted.level);
            if (map.hasLayer(areas)) areas.redraw();
        }
        renderLegendClasses();
    }

    function renderLegendClasses() {
        const metric = METRICS[painted.name];
        elements.legendAreas.dataset.metric = painted.name;
        elements.legendAreasTitle.textContent = metric.legend(state);
        elements.areaHint.textContent = t(painted.name === 'coverage' ? 'area_hint_coverage' : 'area_hint');
        elements.areaClasses.replaceChildren();
        let lower = 0;
        for (const entry of metric.classes) {
            const item = document.createElement('li');
            const swatch = document.createElement('span');
            swatch.className = `swatch ${entry.swatch}`;
            swatch.setAttribute('aria-hidden', 'true');
            let text;
            if (entry.upTo !== Infinity) text = `${metric.format(lower)} – ${metric.format(entry.upTo)}`;
            else if (metric.top !== undefined) text = `${metric.format(lower)} – ${metric.format(metric.top)}`;
            else text = `> ${metric.format(lower)}`;
            item.append(swatch, document.createTextNode(` ${text}`));
            elements.areaClasses.append(item);
            lower = entry.upTo;
        }
    }

    /* Everything that follows the coverage question: metrics, section, map. */
    async function update() {
        if (!active) return;
        showFiliere();
        renderCoverageControls();
        await renderMetrics();
        renderSelectionLine();
        serviceAreas.update(enabled.coverage ? selectionParameters(state) : null, active);
        await Promise.all([refreshCoverage(), applyMetric()]);
    }

    /* Runs update() once for every change made in the same task. */
    function scheduleUpdate() {
        pendingUpdate ??= Promise.resolve().then(() => {
            pendingUpdate = null;
            return update();
        });
        return pendingUpdate;
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
        state.metric = elements.metric.value === defaultMetric() ? undefined : elements.metric.value;
        writeState(state);
        applyMetric();
    });
    elements.radius.addEventListener('change', () => {
        const radius = Number(elements.radius.value);
        if (!(radius > 0 && radius <= 2000)) return;
        state.radius = radius;
        writeState(state);
        scheduleUpdate();
    });
    for (const input of elements.levels)
        input.addEventListener('change', () => {
            if (!input.checked) return;
            state.level = input.value === 'region' ? 'region' : undefined;
            writeState(state);
            scheduleUpdate();
        });
    elements.exportCsv.addEventListener('click', () =>
        download('maillage-selection.csv', 'text/csv;charset=utf-8', featuresToCsv(selection)),
    );
    elements.exportGeojson.addEventListener('click', () =>
        download('maillage-selection.geojson', 'application/geo+json', featuresToGeoJson(selection)),
    );
    elements.coverageExportCsv.addEventListener('click', () => {
        if (shownCoverage)
            download(coverageFileName(shownCoverage.query), 'text/csv;charset=utf-8', coverageToCsv(shownCoverage));
    });
    map.on('moveend', scheduleRefresh);

    return {
        async show() {
            active = true;
            elements.section.hidden = false;
            renderRoleFilters();
            await Promise.all([syncLayers(), scheduleUpdate()]);
            refreshSelection();
        },
        hide() {
            active = false;
            elements.section.hidden = true;
            syncLayers();
            serviceAreas.update(null, false);
        },
        conditionChanged() {
            return scheduleUpdate();
        },
        filtersChanged() {
            syncLayers();
            scheduleRefresh();
            scheduleUpdate();
        },
        retranslate() {
            if (!active) return;
            renderRoleFilters();
            renderCoverageControls();
            renderLegendClasses();
            renderMetrics();
            renderSelectionLine();
            if (shownCoverage) refreshCoverage(); /* asked again: the server's texts follow the language */
            renderSelection(!elements.selectionTruncated.hidden);
        },
        selection: () => selection,
        /* The area under `latlng` with its figures in words: a popup's
         * content (an element), also written to the live region; null when
         * no area is drawn there. */
        async identify(latlng) {
            if (!active || !elements.layerAreas.checked) return null;
            const areas = await layers.areas;
            const found = areas?.shapesAt(latlng).find((properties) => properties.level === painted.level);
            if (!found) return null;
            const figures = painted.body?.results.find((area) => area.code === found.code);
            if (painted.name === 'coverage' && figures) {
                const { node, text } = areaFigures(figures, { radius: painted.body.query.radius_km, level: painted.level });
                elements.areaInfo.textContent = text;
                return node;
            }
            const text = t('area_info', { name: `${found.name} (${found.code})`, population: formatInteger(found.population) });
            elements.areaInfo.textContent = text;
            const node = document.createElement('p');
            node.textContent = text;
            return node;
        },
    };
}
