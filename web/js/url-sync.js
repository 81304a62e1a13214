/* url-sync.js — keeps the view state, the map and the address bar in step.
 *
 * Owns: the two changes of the URL that are not searches: a map move
 * (zoom, and centre when the map left the place: the history entry is
 * replaced, never pushed) and back/forward (popstate: the state is read
 * again from the URL and the page re-applies it). Invariants:
 *  - `state` is one object shared by every module: it is changed in place,
 *    never replaced (reloadState empties and refills it);
 *  - the centre is in the URL only when the map is more than 50 m from
 *    the place searched, so a search's link stays short.
 * Importing this module does nothing; recordMapView and reloadState are
 * pure functions of their arguments. */
import { readState, writeState } from './state.js';

/* Records `map`'s view in `state`: its zoom, and its centre unless it is
 * the place searched (within 50 m). */
export function recordMapView(state, map) {
    state.zoom = map.getZoom();
    const center = map.getCenter();
    const atPlace = state.lat !== undefined && map.distance(center, [state.lat, state.lon]) < 50;
    state.center = atPlace ? undefined : [center.lat, center.lng];
}

/* Writes every move of `map` into `state` and the URL (replace). */
export function followMapMoves(map, state) {
    map.on('moveend', () => {
        recordMapView(state, map);
        writeState(state);
    });
}

/* Replaces the content of `state` by what the query `search` says; returns `state`. */
export function reloadState(state, search = location.search) {
    return Object.assign(state, Object.fromEntries(Object.keys(state).map((key) => [key, undefined])), readState(search));
}

/* On back/forward, re-reads `state` from the URL and calls apply({fromHistory: true}). */
export function followHistory(state, apply) {
    window.addEventListener('popstate', () => {
        reloadState(state);
        apply({ fromHistory: true });
    });
}
