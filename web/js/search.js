/* search.js — the patient search: condition, place, public, nearest centres.
 *
 * Owns: the condition and place comboboxes, the public filter, the
 * geolocation button, the /api/nearest request, the result list and its
 * markers (the searched place and one numbered marker per hospital), and
 * the condition's label in the current language. Invariants:
 *  - the list is the equivalent of the map: every result marker is a
 *    numbered list entry and both lead to each other (click, keyboard: a
 *    card's map button focuses its marker, Enter or Escape there the card;
 *    on a small screen each also switches to the map or the list);
 *  - a search from the form or the map fits the map to the place and the
 *    nearest results (at once, or when a hidden map is next shown);
 *  - a search writes the state to the URL first (push: a new history
 *    entry), then shows only the newest answer (older requests are aborted);
 *  - without a place there is no request: the list says what to choose;
 *  - the server's `message` (nothing covers the condition, or the nearest
 *    covering site is very far) is shown above the list (results.js), and
 *    when nothing covers the condition, the more specific conditions sites
 *    do cover, each a button that searches it (uncovered.js);
 *  - with a platform, the server's nearest 100 are asked and the list keeps
 *    that platform's first config.nearestCount.
 * Importing this module creates nothing; createSearch() needs a Leaflet map. */
import { config } from './config.js';
import { t, language } from './i18n.js';
import { searchConditions, searchPlaces, nearest } from './api.js';
import { createCombobox } from './combobox.js';
import { writeState } from './state.js';
import { groupByHospital, renderResults, renderMessage, renderServiceChoice } from './results.js';
import { mapService, rememberedService, rememberService } from './card-links.js';
import { drawResultMarkers } from './markers.js';

/* Where the map is on a small screen (small-screen.js); on a page without
 * the switch the map is always shown. */
const ALWAYS_SHOWN = { showMap() {}, showList() {}, mapVisible: () => true };

/* The patient search on `map` for `state` (read and changed in place, never
 * replaced). `elements`: conditionInput, conditionListbox, placeInput,
 * placeListbox, status, intro, message, list, and, where the page has them,
 * geolocate and publicSelect (full page), mapService and resultsTools (the
 * choice of map service for directions and its paragraph, shown with
 * results) and resultsStatus (a live region for the cards' copy buttons).
 * onConditionChanged() runs after the condition or the public changed (the
 * map's sites and the planner follow); onResultsDrawn(groups), optional,
 * after the result markers were drawn. `layout`: showMap(), showList(),
 * mapVisible() (small-screen.js): a search fits the map to its results only
 * while the map is visible, else when it is next shown (fitPending()).
 * Returns {search, choosePlace, labelCondition, showState, retranslate,
 * fitPending}. */
export function createSearch({ map, state, elements, onConditionChanged, onResultsDrawn,
    layout = ALWAYS_SHOWN }) {
    const L = window.L;
    const markers = L.layerGroup().addTo(map);
    let markerByKey = new Map();
    let lastAnswer = null;
    let searchController = null;
    let pendingFit = null;
    let service = rememberedService();

    createCombobox({
        input: elements.conditionInput,
        listbox: elements.conditionListbox,
        status: elements.status,
        search: async (text, signal) => (await searchConditions(text, language(), signal)).results,
        describe: (item) => ({
            primary: item.label,
            secondary: [
                `ORPHA:${item.orpha}`,
                item.matched && item.matched !== item.label ? `« ${item.matched} »` : '',
                t('sites_count', { n: item.sites }),
            ]
                .filter(Boolean)
                .join(' · '),
        }),
        onSelect: chooseCondition,
    });

    /* Searches the condition {orpha, label} (the combobox, or a condition
     * offered when nothing covers the one searched). */
    function chooseCondition(item) {
        state.orpha = item.orpha;
        state.condition = item.label;
        elements.conditionInput.value = item.label;
        onConditionChanged();
        search({ push: true, fit: true });
    }

    createCombobox({
        input: elements.placeInput,
        listbox: elements.placeListbox,
        status: elements.status,
        search: async (text, signal) => (await searchPlaces(text, signal)).results,
        describe: (place) => ({
            primary: place.name,
            secondary: [place.departement, place.postcodes.slice(0, 3).join(', ')].filter(Boolean).join(' · '),
        }),
        onSelect: (place) => {
            choosePlace(place.lat, place.lon, place.name);
        },
    });

    elements.conditionInput.addEventListener('input', () => {
        if (elements.conditionInput.value.trim() === '' && state.orpha) {
            state.orpha = undefined;
            state.condition = undefined;
            onConditionChanged();
            search({ push: true, fit: true });
        }
    });

    elements.publicSelect?.addEventListener('change', () => {
        state.public = elements.publicSelect.value || undefined;
        onConditionChanged();
        search({ push: true, fit: true });
    });

    elements.geolocate?.addEventListener('click', () => {
        if (!navigator.geolocation) {
            elements.intro.textContent = t('geolocation_failed');
            return;
        }
        elements.intro.textContent = t('geolocating');
        navigator.geolocation.getCurrentPosition(
            (position) => choosePlace(position.coords.latitude, position.coords.longitude, t('my_position')),
            () => {
                elements.intro.textContent = t('geolocation_failed');
            },
            { timeout: 10000, maximumAge: 600000 },
        );
    });

    /* Searches near (lat, lon), named `label` ('' for a point on the map). */
    function choosePlace(lat, lon, label) {
        state.lat = lat;
        state.lon = lon;
        state.place = label;
        state.center = undefined;
        elements.placeInput.value = label || placeLabel();
        search({ push: true, fit: true });
    }

    function placeLabel() {
        return state.place || t('chosen_point', { lat: state.lat.toFixed(4), lon: state.lon.toFixed(4) });
    }

    function highlight(key, { focusList = false, focusMarker = false } = {}) {
        if (focusList) layout.showList();
        for (const item of elements.list.querySelectorAll('.result'))
            item.classList.toggle('is-active', item.dataset.key === key);
        for (const [markerKey, marker] of markerByKey) marker.getElement()?.classList.toggle('is-active', markerKey === key);
        const item = [...elements.list.querySelectorAll('.result')].find((entry) => entry.dataset.key === key);
        if (focusList && item) {
            item.scrollIntoView({ block: 'nearest' });
            item.focus({ preventScroll: true });
        }
        if (focusMarker) markerByKey.get(key)?.getElement()?.focus();
    }

    function drawMarkers(groups) {
        const place = state.lat === undefined ? null : { lat: state.lat, lon: state.lon, label: placeLabel() };
        markerByKey = drawResultMarkers(markers, place, groups, (group) => highlight(group.key, { focusList: true }));
        onResultsDrawn?.(groups);
    }

    /* Fits the map to the place and the five nearest hospitals (all of them
     * would zoom out to the tenth, often far), and records the zoom; when
     * the map is hidden, it is done when the map is next shown. */
    function fitResults(groups) {
        if (!layout.mapVisible()) {
            pendingFit = groups;
            return;
        }
        pendingFit = null;
        const points = [[state.lat, state.lon], ...groups.slice(0, 5).map((group) => [group.lat, group.lon])];
        map.fitBounds(L.latLngBounds(points), { padding: [48, 48], maxZoom: 12, animate: false });
        state.zoom = map.getZoom();
        writeState(state);
    }

    function showOnMap(group) {
        layout.showMap();
        pendingFit = null;
        map.setView([group.lat, group.lon], Math.max(map.getZoom(), 12), { animate: false });
        highlight(group.key, { focusMarker: true });
    }

    elements.mapService?.addEventListener('change', () => {
        service = mapService(elements.mapService.value);
        rememberService(service.id);
        renderAnswer();
    });

    function renderAnswer() {
        if (!lastAnswer) return;
        const { body, groups } = lastAnswer;
        elements.intro.textContent = state.orpha
            ? t('results_intro_condition', { condition: state.condition || `ORPHA:${state.orpha}`, place: placeLabel() })
            : t('results_intro_all', { place: placeLabel() });
        renderMessage(elements.message, body, groups.length > 0, chooseCondition);
        showServiceChoice(groups.length > 0);
        renderResults(elements.list, groups, {
            from: { lat: state.lat, lon: state.lon },
            queryOrpha: state.orpha,
            onShow: showOnMap,
            service,
            status: elements.resultsStatus,
        });
        drawMarkers(groups);
    }

    function showServiceChoice(shown) {
        if (elements.resultsTools) elements.resultsTools.hidden = !shown;
        if (shown) renderServiceChoice(elements.mapService, service);
    }

    /* Runs /api/nearest for the state's place and condition and shows it.
     * push: a new history entry; fit: move the map to the results. */
    async function search({ push = false, fit = false } = {}) {
        writeState(state, { push });
        if (state.lat === undefined) {
            lastAnswer = null;
            pendingFit = null;
            elements.intro.textContent = t('results_none_place');
            elements.message.replaceChildren();
            elements.list.replaceChildren();
            showServiceChoice(false);
            drawMarkers([]);
            return;
        }
        searchController?.abort();
        const controller = new AbortController();
        searchController = controller;
        elements.intro.textContent = t('loading');
        document.body.classList.add('is-loading');
        try {
            const body = await nearest(
                {
                    lat: state.lat.toFixed(6),
                    lon: state.lon.toFixed(6),
                    orpha: state.orpha,
                    k: state.platform ? 100 : config.nearestCount,
                    role: state.roles?.join(','),
                    public: state.public,
                },
                controller.signal,
            );
            let results = body.results;
            if (state.platform) results = results.filter((result) => result.platform === state.platform).slice(0, config.nearestCount);
            lastAnswer = { body, groups: groupByHospital(results) };
            renderAnswer();
            if (fit) fitResults(lastAnswer.groups);
        } catch (error) {
            if (error.name === 'AbortError') return;
            lastAnswer = null;
            elements.list.replaceChildren();
            showServiceChoice(false);
            drawMarkers([]);
            elements.intro.textContent = t('error', { detail: error.message });
        } finally {
            if (searchController === controller) document.body.classList.remove('is-loading');
        }
    }

    /* The condition's label in the current language, when only its code is known. */
    async function labelCondition() {
        if (!state.orpha) {
            elements.conditionInput.value = '';
            return;
        }
        elements.conditionInput.value = state.condition ?? `ORPHA:${state.orpha}`;
        try {
            const answer = await searchConditions(`ORPHA:${state.orpha}`, language());
            const found = answer.results.find((item) => item.orpha === state.orpha);
            if (found) {
                state.condition = found.label;
                elements.conditionInput.value = found.label;
                if (lastAnswer) renderAnswer();
                writeState(state);
            }
        } catch (error) {
            console.warn(`condition ${state.orpha}: ${error.message}`);
        }
    }

    return {
        search,
        choosePlace,
        labelCondition,
        /* Puts the state's place and public into the form (start, back/forward). */
        showState() {
            elements.placeInput.value = state.place ?? (state.lat !== undefined ? placeLabel() : '');
            if (elements.publicSelect) elements.publicSelect.value = state.public ?? '';
        },
        /* Fits the map to the results of a search made while it was hidden;
         * false when there was none (the map is left as it is). */
        fitPending() {
            if (!pendingFit) return false;
            fitResults(pendingFit);
            return true;
        },
        /* After a language change: the answer's texts, asked again in the
         * new language (the server's messages and labels), and the condition's label. */
        retranslate() {
            renderAnswer();
            if (!lastAnswer) elements.intro.textContent = t('results_none_place');
            else search();
            return labelCondition();
        },
    };
}
