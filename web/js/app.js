/* app.js — the page's composition: main() builds index.html or embed.html
 * (body[data-mode] "full" or "embed") from the modules.
 *
 * Owns: finding the page's elements, creating the modules in order and
 * connecting them (a condition or filter change reaches the map's sites,
 * the planner and the list), the map click (a place in the patient view,
 * an area's figures in the planner), and applying the state at start
 * and after back/forward. Invariants:
 *  - `state` (state.js) is the one description of the view, one object
 *    shared by every module and changed in place; every change is written
 *    to the URL (a search pushes a history entry, a map move replaces it);
 *  - below 700 px the list comes first and the map is shown on demand
 *    (small-screen.js); a map first shown after the start gets the view
 *    it missed (the results' fit, else the state's first view);
 *  - the map's moveend handlers run in creation order: the state first
 *    (url-sync.js), then the planner's selection, then the open-full link;
 *  - window.maillage exposes {map, state, placedLabels(), insets()} for
 *    tests and debugging only.
 * Importing this module does nothing; main.js calls main() once. */
import { translateDocument, language } from './i18n.js';
import { readState, writeState } from './state.js';
import { createMap, showInitialView } from './map-view.js';
import { createSearch } from './search.js';
import { createPlanner } from './planner.js';
import { createShare } from './share.js';
import { createViews } from './views.js';
import { createSmallScreen } from './small-screen.js';
import { followMapMoves, followHistory } from './url-sync.js';
import { pinnedPlaces } from './labels.js';

const byId = (id) => document.getElementById(id);

function searchElements() {
    return {
        conditionInput: byId('condition-input'),
        conditionListbox: byId('condition-listbox'),
        placeInput: byId('place-input'),
        placeListbox: byId('place-listbox'),
        status: byId('combobox-status'),
        intro: byId('results-intro'),
        message: byId('results-message'),
        list: byId('results-list'),
        geolocate: byId('geolocate-button'),
        publicSelect: byId('public-select'),
        mapService: byId('map-service-select'),
        resultsTools: byId('results-tools'),
        resultsStatus: byId('results-status'),
    };
}

function plannerElements() {
    return {
        section: byId('planner'),
        filiere: byId('filiere-select'),
        roles: byId('role-filters'),
        coverageSelection: byId('coverage-selection'),
        radius: byId('radius-select'),
        levels: document.querySelectorAll('input[name="coverage-level"]'),
        layerNetwork: byId('layer-network'),
        layerAreas: byId('layer-areas'),
        layerServiceAreas: byId('layer-service-areas'),
        serviceAreasField: byId('service-areas-field'),
        serviceAreasStatus: byId('service-areas-status'),
        layerEtablissements: byId('layer-etablissements'),
        metric: byId('metric-select'),
        coverage: byId('coverage'),
        coverageStatus: byId('coverage-status'),
        coverageMessage: byId('coverage-message'),
        coverageTotalsBody: byId('coverage-totals-body'),
        coverageNote: byId('coverage-note'),
        coverageCaption: byId('coverage-caption'),
        coverageAreaHeader: byId('coverage-area-header'),
        coverageBody: byId('coverage-body'),
        coverageExportCsv: byId('coverage-export-csv'),
        legendAreas: byId('legend-areas'),
        legendNetwork: document.querySelectorAll('.legend-network'),
        legendServiceAreas: byId('legend-service-areas'),
        areaClasses: byId('area-classes'),
        areaHint: byId('area-hint'),
        areaInfo: byId('area-info'),
        legendAreasTitle: byId('legend-areas-title'),
        selectionCount: byId('selection-count'),
        selectionTruncated: byId('selection-truncated'),
        selectionBody: byId('selection-body'),
        exportCsv: byId('export-csv'),
        exportGeojson: byId('export-geojson'),
    };
}

function shareElements() {
    return {
        shareButton: byId('share-button'),
        dialog: byId('share-dialog'),
        permalink: byId('permalink'),
        snippet: byId('iframe-snippet'),
        closeButton: byId('share-close'),
        openFull: byId('open-full'),
        copyButtons: document.querySelectorAll('[data-copy]'),
    };
}

export function main() {
    const mode = document.body.dataset.mode === 'embed' ? 'embed' : 'full';
    const state = readState();
    if (state.lang) document.documentElement.lang = state.lang;
    translateDocument();

    const view = createMap(byId('map'), state);
    const { map } = view;
    let planner = null;
    let patient = null;
    const layout = createSmallScreen({
        map,
        elements: { showList: byId('show-list'), showMap: byId('show-map'), skipLink: document.querySelector('.skip-link') },
        onMapShown: () => {
            // A map hidden from the start was given France at the smallest zoom: set the view it was meant to have.
            // (The new size's moveend is deferred, so the tiles are asked for the view set here only.)
            const viewUnset = state.zoom === undefined && state.center === undefined;
            map.invalidateSize({ animate: false, debounceMoveend: true });
            if (patient.fitPending() || !viewUnset) return;
            showInitialView(map, { ...state, zoom: undefined, center: undefined });
        },
    });
    patient = createSearch({
        map,
        state,
        layout,
        elements: searchElements(),
        onResultsDrawn: (groups) => view.labels.setPinned(pinnedPlaces(state, groups)),
        onConditionChanged: () => {
            view.refreshSites();
            planner?.filtersChanged();
            planner?.conditionChanged();
        },
    });

    map.on('click', async (event) => {
        if (state.view !== 'planner') {
            patient.choosePlace(event.latlng.lat, event.latlng.lng, '');
            return;
        }
        const content = await planner?.identify(event.latlng);
        if (content) window.L.popup({ maxWidth: 320 }).setLatLng(event.latlng).setContent(content).openOn(map);
    });
    followMapMoves(map, state);

    if (mode === 'full')
        planner = createPlanner({
            map,
            state,
            elements: plannerElements(),
            onFiltersChanged: () => {
                view.refreshSites();
                planner.filtersChanged();
                writeState(state);
                patient.search();
            },
        });
    const views = createViews({
        mode,
        state,
        map,
        planner,
        elements: { viewPatient: byId('view-patient'), viewPlanner: byId('view-planner'), languageButton: byId('language-button') },
        onLanguageChanged: () => {
            view.retranslate();
            planner?.retranslate();
            patient.retranslate();
        },
    });
    const share = createShare({ map, state, mode, elements: shareElements() });

    async function applyState({ fromHistory = false } = {}) {
        if (state.lang && state.lang !== language()) {
            document.documentElement.lang = state.lang;
            translateDocument();
        }
        patient.showState();
        if (fromHistory) showInitialView(map, state);
        views.applyView();
        view.refreshSites();
        // A link with a place but no view of its own shows the place and the results.
        const fit = state.lat !== undefined && state.zoom === undefined && state.center === undefined;
        await Promise.all([patient.labelCondition(), patient.search({ fit })]);
        share.updateOpenFull();
    }
    followHistory(state, applyState);
    applyState();

    window.maillage = { map, state, placedLabels: view.labels.placed, insets: view.insets.describe };
}
