/* api.js — calls to the maillage JSON API (same origin, relative paths).
 *
 * Owns: building API URLs and turning answers into values or Errors.
 * Invariants: every request goes to the page's own server (relative URLs,
 * so the page also works under a path prefix); a problem+json answer
 * becomes an Error whose message is the problem's `detail` or `title`;
 * a superseded request is aborted by its caller through `signal`. */

export class ApiError extends Error {
    constructor(message, status) {
        super(message);
        this.status = status;
    }
}

export function apiUrl(path, parameters = {}) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(parameters))
        if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
    const text = query.toString();
    return text ? `${path}?${text}` : path;
}

export async function getJson(path, parameters = {}, signal = undefined) {
    const response = await fetch(apiUrl(path, parameters), { signal, headers: { Accept: 'application/json' } });
    let body = null;
    try {
        body = await response.json();
    } catch {
        body = null;
    }
    if (!response.ok) {
        const detail = body && (body.detail || body.title);
        throw new ApiError(detail || `HTTP ${response.status}`, response.status);
    }
    if (body === null) throw new ApiError('invalid JSON', response.status);
    return body;
}

export const searchConditions = (q, lang, signal) => getJson('api/conditions', { q, lang, limit: 8 }, signal);
export const searchPlaces = (q, signal) => getJson('api/places', { q, limit: 8 }, signal);
export const nearest = (parameters, signal) => getJson('api/nearest', parameters, signal);
export const structures = (parameters, signal) => getJson('api/structures', parameters, signal);

/* The matched group of a nearest result, whatever shape the server gives:
 * {orpha, label}, or a code with a separate label member. */
export function matchedOf(result) {
    const matched = result.orpha_matched;
    if (matched && typeof matched === 'object')
        return { orpha: Number(matched.orpha ?? matched.code), label: matched.label ?? matched.label_fr ?? '' };
    if (matched === undefined || matched === null) return null;
    return {
        orpha: Number(matched),
        label: result.orpha_matched_label ?? result.matched_label ?? '',
    };
}

/* Reads an /api/coverage answer into département code -> share of the
 * population within the radius (0..1). Tolerant of the exact member names
 * until the coverage issue fixes them: rows in results/areas/features, the
 * share given directly or as covered population / population. */
export function coverageShares(body) {
    const rows = body.results ?? body.areas ?? body.features?.map((feature) => feature.properties ?? {}) ?? [];
    const shares = new Map();
    for (const row of rows) {
        const code = row.code ?? row.area_code ?? row.departement;
        const population = Number(row.population);
        const covered = Number(
            row.covered_population ?? row.population_within_radius ?? row.population_covered ?? row.within_radius,
        );
        let share = row.share ?? row.coverage_share ?? row.coverage;
        if (share === undefined && population > 0 && Number.isFinite(covered)) share = covered / population;
        share = Number(share);
        if (code !== undefined && Number.isFinite(share)) shares.set(String(code), share > 1 ? share / 100 : share);
    }
    return shares;
}
