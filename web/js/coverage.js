/* coverage.js — the planner's coverage question and its answer as data.
 *
 * Owns: the /api/coverage parameters for a view state, the order of the
 * areas table, the CSV of that table and its file name. Pure functions of
 * their arguments (no DOM, no request), so Node tests import them.
 *
 * The answer (src/http/coverage_route.c): {query: {orpha, label, filiere,
 * radius_km, level, role, public}, selected_sites, total, territories: [...],
 * results: [...], message?}, where total, each territory and each area are
 * figures {code, name, population, covered_population, share (0..1),
 * median_km, p90_km (null when no commune has a nearest site),
 * without_point_population, serving_site: {site_id, name, population} |
 * null}; areas also carry `territory` (and départements their `region`).
 * `message` (French) is there only when no site is selected.
 *
 * Invariants: a coverage question is about either a condition (`orpha`,
 * which wins when both are chosen: the server refuses both) or a filière,
 * with the state's roles and public as the map's sites use them; the radius
 * is one of the page's choices or the URL's; the table and the CSV list the
 * same areas in the same order: uncovered population (population − covered,
 * communes without a position included) descending, then population
 * descending, then code. */
import { rowsToCsv } from './export.js';

export const RADII_KM = [20, 50, 100, 150, 200];
export const DEFAULT_RADIUS_KM = 100;
export const LEVELS = ['departement', 'region'];

/* The sites of the question: {orpha} or {filiere}, with role and public;
 * null when neither a condition nor a filière is chosen. */
export function selectionParameters(state) {
    const base = state.orpha ? { orpha: state.orpha } : state.filiere ? { filiere: state.filiere } : null;
    if (!base) return null;
    return { ...base, role: state.roles?.length ? state.roles.join(',') : undefined, public: state.public };
}

/* The full /api/coverage parameters for `state`, or null (nothing chosen). */
export function coverageParameters(state) {
    const selection = selectionParameters(state);
    if (!selection) return null;
    return { ...selection, radius_km: state.radius ?? DEFAULT_RADIUS_KM, level: state.level === 'region' ? 'region' : 'departement' };
}

export function uncoveredPopulation(figures) {
    return figures.population - figures.covered_population;
}

/* The areas of an answer, most people not covered first. */
export function sortByUncovered(areas) {
    return [...areas].sort(
        (a, b) =>
            uncoveredPopulation(b) - uncoveredPopulation(a) || b.population - a.population || a.code.localeCompare(b.code),
    );
}

export const COVERAGE_CSV_COLUMNS = [
    'code', 'name', 'territory', 'region', 'population', 'covered_population', 'uncovered_population', 'share',
    'median_km', 'p90_km', 'without_point_population', 'serving_site_id', 'serving_site_name', 'serving_site_population',
];

/* The areas table of an answer as CSV (RFC 4180 quoting, export.js): one
 * header line and one row per area, in the table's order; numbers as the
 * server sends them (share a fraction, distances in km, empty when null). */
export function coverageToCsv(body) {
    const rows = sortByUncovered(body.results).map((area) => [
        area.code,
        area.name,
        area.territory,
        area.region,
        area.population,
        area.covered_population,
        uncoveredPopulation(area),
        area.share,
        area.median_km,
        area.p90_km,
        area.without_point_population,
        area.serving_site?.site_id,
        area.serving_site?.name,
        area.serving_site?.population,
    ]);
    return rowsToCsv(COVERAGE_CSV_COLUMNS, rows);
}

/* "couverture-ORPHA586-100km-departement.csv", or with the filière
 * ("couverture-BRAIN-TEAM-50km-region.csv"), from the answer's own query. */
export function coverageFileName(query) {
    const what = query.orpha ? `ORPHA${query.orpha}` : String(query.filiere ?? 'sites').replace(/[^A-Za-z0-9]+/g, '-');
    return `couverture-${what}-${query.radius_km}km-${query.level}.csv`;
}
