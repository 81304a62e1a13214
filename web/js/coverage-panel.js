/* coverage-panel.js — the planner's coverage answer in words and tables.
 *
 * Owns: the coverage section's texts and tables (the status line, the
 * server's message, the totals of France, metropolitan France and each
 * overseas département, the areas table) and the figures of one area as a
 * popup. Invariants:
 *  - the areas table is coverage.js's order (most people not covered
 *    first), the same rows as the CSV; every row header names its area,
 *    numbers are right-aligned cells, null distances read "n.d." / "n/a";
 *  - no information by colour alone: the map's classes are also the
 *    tables' and the popup's shares in words;
 *  - the server's message is in the answer's language (query.lang, the
 *    page's when asked), marked when the page has changed language since;
 *    the site names it sends are French: marked lang="fr" when the page is
 *    in English (proper names of places, and the two totals the page names
 *    itself, are not).
 * Importing this module creates nothing. */
import { t, language, formatInteger, formatShare, formatKm } from './i18n.js';
import { sortByUncovered, uncoveredPopulation } from './coverage.js';

function cell(tag, text, className) {
    const element = document.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    if (tag === 'th') element.scope = 'row';
    return element;
}

/* "France", "France métropolitaine" / "Metropolitan France", else the server's name. */
export function territoryName(figures) {
    return figures.code === 'FR' || figures.code === 'metropole' ? t(`territory_${figures.code}`) : figures.name;
}

function areaName(area, level) {
    return level === 'departement' ? `${area.name} (${area.code})` : area.name;
}

function figureCells(figures) {
    return [
        cell('td', formatInteger(figures.population), 'num'),
        cell('td', formatInteger(uncoveredPopulation(figures)), 'num'),
        cell('td', formatShare(figures.share), 'num'),
        cell('td', formatKm(figures.median_km), 'num'),
        cell('td', formatKm(figures.p90_km), 'num'),
    ];
}

/* The radius in words: "100", "75,5". */
export function radiusWords(radius) {
    return formatInteger(radius);
}

/* Fills the coverage section from an /api/coverage answer. `elements`:
 * status, message, totalsBody, note, caption, areaHeader, areasBody, exportCsv. */
export function renderCoverage(elements, body) {
    const { radius_km: radius, level } = body.query;
    elements.status.textContent = t('coverage_status', { sites: formatInteger(body.selected_sites), radius: radiusWords(radius) });
    elements.message.replaceChildren();
    if (body.message) {
        const message = cell('p', body.message, 'far-message');
        const said = body.query?.lang ?? 'fr';
        if (language() !== said) message.lang = said;
        elements.message.append(message);
    }
    elements.totalsBody.replaceChildren(
        ...[body.total, ...body.territories].map((figures) => {
            const row = document.createElement('tr');
            if (figures.code === 'FR') row.className = 'total-row';
            row.append(cell('th', territoryName(figures)), ...figureCells(figures));
            return row;
        }),
    );
    elements.note.textContent = t('coverage_note', { radius: radiusWords(radius) });
    elements.caption.textContent = t(`areas_caption_${level}`);
    elements.areaHeader.textContent = t(`col_${level}`);
    elements.areasBody.replaceChildren(
        ...sortByUncovered(body.results).map((area) => {
            const row = document.createElement('tr');
            row.dataset.code = area.code;
            const serving = cell('td', area.serving_site?.name ?? t('not_available'), 'site-cell');
            if (area.serving_site && language() !== 'fr') serving.lang = 'fr';
            row.append(cell('th', areaName(area, level)), ...figureCells(area), serving);
            return row;
        }),
    );
    elements.exportCsv.disabled = body.results.length === 0;
}

/* Empties the coverage section; `status` is the line to show ('' for none). */
export function clearCoverage(elements, status = '') {
    elements.status.textContent = status;
    for (const name of ['message', 'totalsBody', 'areasBody']) elements[name].replaceChildren();
    elements.note.textContent = '';
    elements.exportCsv.disabled = true;
}

/* One area's figures for a popup: {node, text} (the same facts; `text` for
 * the live region), for the answer's `radius` (km) and `level`. */
export function areaFigures(area, { radius: radiusKm, level }) {
    const radius = radiusWords(radiusKm);
    const lines = [
        t('area_covered', {
            share: formatShare(area.share),
            radius,
            covered: formatInteger(area.covered_population),
            population: formatInteger(area.population),
        }),
        area.median_km === null || area.median_km === undefined
            ? t('area_no_distance')
            : t('area_distances', { median: formatKm(area.median_km), p90: formatKm(area.p90_km) }),
    ];
    if (area.serving_site)
        lines.push(t('area_serving', { name: area.serving_site.name, population: formatInteger(area.serving_site.population) }));
    if (area.without_point_population > 0)
        lines.push(t('area_without_point', { population: formatInteger(area.without_point_population) }));
    const title = areaName(area, level);
    const node = document.createElement('div');
    node.className = 'area-popup';
    node.append(cell('p', title, 'popup-title'), ...lines.map((line) => cell('p', line)));
    return { node, text: t('area_info_coverage', { name: title, figures: lines.join(language() === 'fr' ? ' ; ' : '; ') }) };
}
