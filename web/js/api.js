/* api.js — calls to the maillage JSON API (same origin, relative paths).
 *
 * Owns: building API URLs, turning answers into values or Errors, and the
 * shapes the page reads. Those are the server's (src/http/api.c, documented
 * in the project's CONTRACT.md), read as they are, never guessed among
 * alternatives (tests/browser/modules.test.mjs checks them on real answers):
 *  - /api/conditions: {results: [{orpha, label, matched, level, status, sites}]},
 *    `label` in the asked language;
 *  - /api/places: {results: [{code, name, postcodes: [...], departement,
 *    lat, lon, population}]}; every place has a position;
 *  - /api/nearest: {query: {...}, results: [{site_id, name, role,
 *    centre_label, filiere, orpha_matched, distance_m, lat, lon, finess,
 *    public, phone, address, postcode, city, coordinator_site_id, platform,
 *    source}]} and a top-level `message` when no site covers the
 *    condition (no results) or when the nearest covering site is more than
 *    1,000 km away (results still listed); `orpha_matched` is {orpha, label}
 *    when a condition was asked, else null; `source` cites the site's
 *    document or designation (read by sources.js); `query.lang` says the
 *    language of the texts; when no site covers the condition, `uncovered`
 *    is {orpha, label, filieres: [{filiere, orpha, label}],
 *    covered_conditions: [{orpha, label, level, sites}] (at most 20),
 *    covered_conditions_total} (read by uncovered.js);
 *  - /api/structures: a GeoJSON FeatureCollection of Point features (the
 *    same members in `properties`, without distance_m and position, plus
 *    responsable, service, source, orpha_codes) with a boolean `truncated`;
 *  - /api/coverage: {query, selected_sites, total, territories: [...],
 *    results: [{code, name, population, covered_population, share,
 *    median_km, p90_km, without_point_population, serving_site,
 *    territory, region?}], message?} (read by coverage.js, which documents
 *    every member); coverageShares() reads each area's code and the share of
 *    its population within the radius, a fraction in [0, 1];
 *  - /api/service-areas (answers 404 until it is built): a GeoJSON
 *    FeatureCollection of cells (Polygon, MultiPolygon or null geometry),
 *    properties {site_ids: [...], position: [lon, lat], population, ...},
 *    for the same selection as /api/coverage (read by service-areas.js);
 *  - errors: application/problem+json {type, title, status, detail}.
 * Text members are strings or null, numbers are JSON numbers; labels and
 * messages are in the language the request names.
 * Invariants: every API request names the page's language (`lang`, from
 * i18n.js, unless the caller gives one), so the server's texts match the
 * page; every request goes to the page's own server (relative URLs,
 * so the page also works under a path prefix); a problem answer becomes an
 * ApiError whose message is the problem's `detail` (any other error answer,
 * e.g. one the HTTP library writes itself: "HTTP <status>"); a superseded
 * request is aborted by its caller through `signal` (an AbortError). */

import { language } from './i18n.js';

export class ApiError extends Error {
    constructor(message, status) {
        super(message);
        this.status = status;
    }
}

export function apiUrl(path, parameters = {}) {
    const query = new URLSearchParams();
    if (path.startsWith('api/') && !('lang' in parameters)) parameters = { ...parameters, lang: language() };
    for (const [name, value] of Object.entries(parameters))
        if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
    const text = query.toString();
    return text ? `${path}?${text}` : path;
}

export async function getJson(path, parameters = {}, signal = undefined) {
    const response = await fetch(apiUrl(path, parameters), { signal, headers: { Accept: 'application/json' } });
    if (!response.ok) {
        const problem = response.headers.get('Content-Type')?.startsWith('application/problem+json');
        throw new ApiError(problem ? (await response.json()).detail : `HTTP ${response.status}`, response.status);
    }
    try {
        return await response.json();
    } catch (error) {
        if (error.name === 'AbortError') throw error;
        throw new ApiError('invalid JSON', response.status);
    }
}

export const searchConditions = (q, lang, signal) => getJson('api/conditions', { q, lang, limit: 8 }, signal);
export const searchPlaces = (q, signal) => getJson('api/places', { q, limit: 8 }, signal);
export const nearest = (parameters, signal) => getJson('api/nearest', parameters, signal);
export const structures = (parameters, signal) => getJson('api/structures', parameters, signal);
export const coverage = (parameters, signal) => getJson('api/coverage', parameters, signal);
export const serviceAreas = (parameters, signal) => getJson('api/service-areas', parameters, signal);

/* Whether the server offers /api/coverage: one HEAD request. */
export function coverageAvailable() {
    return fetch(apiUrl('api/coverage', { orpha: 232, radius_km: 100, level: 'departement' }), { method: 'HEAD' })
        .then((response) => response.ok)
        .catch(() => false);
}

/* An /api/coverage answer as département code -> share of the population
 * within the radius (0..1). */
export function coverageShares(body) {
    return new Map(body.results.map((area) => [area.code, area.share]));
}
