/* state.js — the view state and its URL form, so links, back and forward work.
 *
 * Owns: parsing the query string into a state and writing it back.
 * Invariants: the URL is the single source of a shareable view; an invalid
 * or out-of-range parameter is dropped, never trusted (lat in [-90, 90],
 * lon in [-180, 180], zoom in [0, 19], orpha a positive integer); a search
 * pushes a history entry, a map move only replaces the current one.
 *
 * Parameters: orpha (condition), condition (its label, informative), lat/lon
 * (the place searched), place (its label), zoom, center=lat,lon (map centre
 * when it differs from the place), view=patient|planner, filiere, role
 * (comma-separated), platform, public=enfants|adultes, metric=coverage|population
 * (the planner's choropleth; absent: coverage once a condition or filière is
 * chosen, else population), radius_km and level=region (the planner's
 * coverage; absent: 100 km by département), lang=fr|en. */

function number(text, minimum, maximum) {
    if (text === null || text === '' || !/^-?\d+(\.\d+)?$/.test(text.trim())) return undefined;
    const value = Number(text);
    return value >= minimum && value <= maximum ? value : undefined;
}

export function readState(search = location.search) {
    const query = new URLSearchParams(search);
    const state = {};
    const orpha = query.get('orpha')?.replace(/^ORPHA:/i, '');
    if (orpha && /^\d{1,9}$/.test(orpha) && Number(orpha) > 0) state.orpha = Number(orpha);
    const lat = number(query.get('lat'), -90, 90);
    const lon = number(query.get('lon'), -180, 180);
    if (lat !== undefined && lon !== undefined) {
        state.lat = lat;
        state.lon = lon;
    }
    const zoom = number(query.get('zoom'), 0, 19);
    if (zoom !== undefined) state.zoom = Math.round(zoom);
    const center = (query.get('center') ?? '').split(',');
    if (center.length === 2) {
        const centerLat = number(center[0], -90, 90);
        const centerLon = number(center[1], -180, 180);
        if (centerLat !== undefined && centerLon !== undefined) state.center = [centerLat, centerLon];
    }
    for (const name of ['condition', 'place', 'filiere', 'platform']) {
        const value = query.get(name);
        if (value) state[name] = value.slice(0, 200);
    }
    const metric = query.get('metric');
    if (metric === 'coverage' || metric === 'population') state.metric = metric;
    if (query.get('level') === 'region') state.level = 'region';
    const radius = number(query.get('radius_km'), 1, 2000);
    if (radius !== undefined) state.radius = radius;
    const audience = query.get('public');
    if (audience === 'enfants' || audience === 'adultes') state.public = audience;
    const role = query.get('role');
    if (role) state.roles = role.split(',').filter((value) => /^[a-z_]{1,40}$/.test(value));
    if (query.get('view') === 'planner') state.view = 'planner';
    const lang = query.get('lang');
    if (lang === 'en' || lang === 'fr') state.lang = lang;
    return state;
}

export function stateQuery(state) {
    const query = new URLSearchParams();
    if (state.view === 'planner') query.set('view', 'planner');
    if (state.orpha) query.set('orpha', String(state.orpha));
    if (state.condition) query.set('condition', state.condition);
    if (state.lat !== undefined && state.lon !== undefined) {
        query.set('lat', state.lat.toFixed(5));
        query.set('lon', state.lon.toFixed(5));
    }
    if (state.place) query.set('place', state.place);
    if (state.zoom !== undefined) query.set('zoom', String(state.zoom));
    if (state.center) query.set('center', `${state.center[0].toFixed(4)},${state.center[1].toFixed(4)}`);
    if (state.filiere) query.set('filiere', state.filiere);
    if (state.roles?.length) query.set('role', state.roles.join(','));
    if (state.platform) query.set('platform', state.platform);
    if (state.public) query.set('public', state.public);
    if (state.metric) query.set('metric', state.metric);
    if (state.radius !== undefined) query.set('radius_km', String(state.radius));
    if (state.level === 'region') query.set('level', 'region');
    if (state.lang === 'en') query.set('lang', 'en');
    const text = query.toString();
    return text ? `?${text}` : '';
}

/* Writes `state` to the address bar: push for a new search, replace for a move. */
export function writeState(state, { push = false } = {}) {
    const url = `${location.pathname}${stateQuery(state)}`;
    if (url === `${location.pathname}${location.search}`) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
}
