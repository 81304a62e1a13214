// modules.test.mjs — the page's modules one at a time, without the page's
// entry (web/js/main.js). First in Node (no browser, no DOM): URL state,
// result grouping, CSV/GeoJSON export, tile styles, site points, share URLs,
// map-move state, the coverage reader, source lines. Then in headless Chromium against a
// real `maillage serve`, on the real index.html markup with its entry
// script removed: importing any module builds nothing, api.js reads the
// server's real answers, and the map and search modules work alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readState, stateQuery } from '../../web/js/state.js';
import { groupByHospital } from '../../web/js/results.js';
import { featuresToCsv, featuresToGeoJson } from '../../web/js/export.js';
import { coverageShares } from '../../web/js/api.js';
import { sitesOfPoint } from '../../web/js/markers.js';
import { readSource, sourceLine, sourceShort, KNOWN_DESIGNATIONS } from '../../web/js/sources.js';
import { basemapStyle, choroplethStyle, networkStyle, isCluster, POPULATION_CLASSES } from '../../web/js/map-style.js';
import { embedUrl, fullUrl } from '../../web/js/share.js';
import { recordMapView, reloadState } from '../../web/js/url-sync.js';
import { repository } from './browser.mjs';
import { browserSession } from './session.mjs';

const TIMEOUT = 15000;

/* ---- in Node ---- */

test('state: a URL round-trips through readState and stateQuery', () => {
    const query = '?view=planner&orpha=232&condition=Dr%C3%A9panocytose&lat=48.56297&lon=3.28776&place=Provins&zoom=10&center=48.5000%2C3.0000&filiere=MCGRE&role=ccmr%2Ccrmr&platform=ESMARA&public=enfants&metric=coverage&radius_km=50&level=region&lang=en';
    const state = readState(query);
    assert.deepEqual(state, {
        view: 'planner', orpha: 232, condition: 'Drépanocytose', lat: 48.56297, lon: 3.28776, place: 'Provins',
        zoom: 10, center: [48.5, 3], filiere: 'MCGRE', roles: ['ccmr', 'crmr'], platform: 'ESMARA', public: 'enfants', metric: 'coverage', radius: 50, level: 'region', lang: 'en',
    });
    assert.deepEqual(readState(stateQuery(state)), state);
    assert.deepEqual(readState('?metric=population&level=departement'), { metric: 'population' }, 'départements are the default level');
});

test('state: bad values are dropped, never trusted', () => {
    assert.deepEqual(readState('?orpha=abc&lat=91&lon=3&zoom=40&center=1,2,3&public=bebes&lang=de&view=x&metric=x&level=commune'), {});
    assert.deepEqual(readState('?lat=48.5'), {}, 'lat without lon');
    assert.deepEqual(readState('?lat=NaN&lon=Infinity'), {});
    assert.deepEqual(readState('?lat=1e3&lon=0x10'), {});
    assert.deepEqual(readState('?orpha=ORPHA:232&role=ccmr,<script>'), { orpha: 232, roles: ['ccmr'] });
    assert.deepEqual(readState('?orpha=0'), {});
});

test('url-sync: a map move records zoom, and the centre only away from the place', () => {
    const fakeMap = (center, metres) => ({ getZoom: () => 9, getCenter: () => center, distance: () => metres });
    const state = { lat: 48.56297, lon: 3.28776, center: [1, 2] };
    recordMapView(state, fakeMap({ lat: 48.56297, lng: 3.28776 }, 10));
    assert.deepEqual(state, { lat: 48.56297, lon: 3.28776, center: undefined, zoom: 9 });
    recordMapView(state, fakeMap({ lat: 48.6, lng: 2.9 }, 30000));
    assert.deepEqual(state.center, [48.6, 2.9]);
    const noPlace = {};
    recordMapView(noPlace, fakeMap({ lat: 46, lng: 2 }, 0));
    assert.deepEqual(noPlace, { zoom: 9, center: [46, 2] });
});

test('url-sync: back/forward refills the same state object', () => {
    const state = readState('?orpha=232&lat=48.56297&lon=3.28776&place=Provins&view=planner');
    const same = reloadState(state, '?lat=48.79&lon=2.45');
    assert.equal(same, state, 'the object shared by the modules is kept');
    assert.deepEqual(JSON.parse(JSON.stringify(state)), { lat: 48.79, lon: 2.45 });
    assert.equal(state.orpha, undefined);
});

test('share: permalink and embed URL sit next to the page and carry the view', () => {
    const state = readState('?view=planner&orpha=232&lat=48.56297&lon=3.28776&place=Provins&zoom=9&filiere=MCGRE&public=enfants&lang=en');
    const embed = new URL(embedUrl(state, 11, 'https://example.org/maillage/?x=1'));
    assert.equal(embed.pathname, '/maillage/embed');
    assert.deepEqual(Object.fromEntries(embed.searchParams), {
        orpha: '232', lat: '48.56297', lon: '3.28776', place: 'Provins', zoom: '11', public: 'enfants', lang: 'en',
    });
    const full = new URL(fullUrl(state, 'full', 'https://example.org/maillage/?x=1'));
    assert.equal(full.pathname, '/maillage/');
    assert.equal(full.searchParams.get('view'), 'planner');
    assert.equal(full.searchParams.get('filiere'), 'MCGRE');
    const fromEmbed = new URL(fullUrl(state, 'embed', 'https://example.org/maillage/embed?orpha=232'));
    assert.equal(fromEmbed.pathname, '/maillage/');
    assert.equal(fromEmbed.searchParams.get('view'), null, 'the embed opens the patient view');
});

test('results: sites of one hospital are grouped, in distance order', () => {
    const results = [
        { site_id: 'B', name: 'H1', finess: '1', lat: 1, lon: 1, distance_m: 10 },
        { site_id: 'C', name: 'H2', finess: '2', lat: 2, lon: 2, distance_m: 20 },
        { site_id: 'A', name: 'H1', finess: '1', lat: 1, lon: 1, distance_m: 10 },
        { site_id: 'D', name: null, finess: null, lat: 3, lon: 3, distance_m: 30 },
    ];
    const groups = groupByHospital(results);
    assert.deepEqual(groups.map((group) => [group.rank, group.name, group.key, group.sites.map((site) => site.site_id)]), [
        [1, 'H1', '1', ['B', 'A']],
        [2, 'H2', '2', ['C']],
        [3, 'D', '3.00000,3.00000', ['D']],
    ]);
});

test('markers: a site point stands for itself, a folded point for each of its sites', () => {
    const single = { count: 1, site_id: 'PROVINS-COOP', name: 'Centre hospitalier de Provins', role: 'cooperation' };
    assert.deepEqual(sitesOfPoint(single), [single]);
    const folded = {
        count: 2, site_id: 'A', name: 'H', role: 'crmr', centre_label: 'x',
        site_ids: 'A|B', names: 'H|H', centre_labels: 'Centre A|', roles: 'crmr|crmr_coordonnateur',
    };
    assert.deepEqual(sitesOfPoint(folded), [
        { site_id: 'A', name: 'H', centre_label: 'Centre A', role: 'crmr', public: null, source: null },
        { site_id: 'B', name: 'H', centre_label: '', role: 'crmr_coordonnateur', public: null, source: null },
    ]);
    const withSources = { ...folded, publics: 'adultes|', sources: 'Arrêté du 16 janvier 2014 (CRCM), annexe; JORF|' };
    assert.deepEqual(sitesOfPoint(withSources).map((site) => [site.public, site.source]), [
        ['adultes', 'Arrêté du 16 janvier 2014 (CRCM), annexe; JORF'],
        [null, null],
    ], 'an unstated public or source (empty string) is null');
});

const CRCM = 'Arrêté du 16 janvier 2014 (CRCM), annexe; JORF';
const CRCM_INFERRED = `${CRCM}; site non nommé par l'arrêté, déduit de l'organisation de l'établissement (voir network-crcm-2014.notes.md)`;
const SEED = "« Les centres de maladies rares de l'hôpital Bretonneau » (Hôpital Bretonneau, AP-HP); sources/002_e167d5fff387637d.txt";

test('sources: the 2014 CRCM designation shows its year, its 2017 relabelling and the inferred-site caveat', () => {
    assert.deepEqual(KNOWN_DESIGNATIONS, [{ day: 16, month: 1, year: 2014, label: 'CRCM', relabelled: 2017 }]);
    assert.deepEqual(readSource(CRCM), { kind: 'arrete', day: 16, month: 1, year: 2014, label: 'CRCM', relabelled: 2017, inferred: false });
    assert.equal(readSource(CRCM_INFERRED).inferred, true);
    assert.deepEqual(sourceLine(CRCM, 'fr'), {
        text: 'Source : arrêté du 16 janvier 2014 (CRCM) — liste de 2014, renouvelée en 2017 ; vérifiez auprès du centre',
        caveat: null,
        quoted: null,
    });
    assert.deepEqual(sourceLine(CRCM_INFERRED, 'en'), {
        text: 'Source: arrêté of 16 January 2014 (CRCM) — 2014 list, relabelled in 2017; check with the centre',
        caveat: 'Site inferred from how the hospital is organised; the arrêté does not name it',
        quoted: null,
    });
    assert.equal(sourceLine(CRCM_INFERRED, 'fr').caveat, 'Site déduit de l’organisation de l’hôpital, non nommé par l’arrêté');
    assert.equal(sourceShort(CRCM, 'fr'), 'Arrêté du 16 janvier 2014 (CRCM), liste renouvelée en 2017');
    assert.equal(sourceShort(CRCM_INFERRED, 'fr'), 'Arrêté du 16 janvier 2014 (CRCM), liste renouvelée en 2017 ; site déduit');
    assert.equal(sourceShort(CRCM_INFERRED, 'en'), 'Arrêté of 16 January 2014 (CRCM), list relabelled in 2017; site inferred');
    assert.equal(sourceLine(CRCM).text, sourceLine(CRCM, 'fr').text, 'French without a document (Node)');
});

test('sources: any other arrêté shows its year; a seed its document; anything else as it is', () => {
    assert.deepEqual(sourceLine('Arrêté du 1er mars 2016 portant désignation des centres', 'fr'), {
        text: 'Source : arrêté du 1er mars 2016 — liste de 2016 ; vérifiez auprès du centre', caveat: null, quoted: null,
    });
    assert.equal(sourceLine('arrêté du 25 juillet 2019 (FSMR)', 'en').text, 'Source: arrêté of 25 July 2019 (FSMR) — 2019 list; check with the centre');
    assert.equal(sourceShort('Arrêté du 25 juillet 2019 (FSMR)', 'fr'), 'Arrêté du 25 juillet 2019 (FSMR)');
    // A label other than the known one is not the known designation.
    assert.equal(readSource('Arrêté du 16 janvier 2014 (autre)').relabelled, null);
    const seed = sourceLine(SEED, 'fr');
    assert.equal(seed.text, "Source : « Les centres de maladies rares de l'hôpital Bretonneau » (Hôpital Bretonneau, AP-HP)");
    assert.equal(seed.quoted, "« Les centres de maladies rares de l'hôpital Bretonneau » (Hôpital Bretonneau, AP-HP)");
    assert.equal(sourceLine(SEED, 'en').text, "Source: « Les centres de maladies rares de l'hôpital Bretonneau » (Hôpital Bretonneau, AP-HP)");
    assert.equal(sourceShort(SEED, 'fr'), "« Les centres de maladies rares de l'hôpital Bretonneau »");
    assert.deepEqual(sourceLine('Annuaire Orphanet, 2023', 'fr'), { text: 'Source : Annuaire Orphanet, 2023', caveat: null, quoted: 'Annuaire Orphanet, 2023' });
    assert.equal(sourceShort('Annuaire Orphanet, 2023', 'en'), 'Annuaire Orphanet, 2023');
    for (const unstated of [null, undefined, '', '  ']) {
        assert.equal(sourceLine(unstated, 'fr').text, 'Source : non indiquée');
        assert.equal(sourceLine(unstated, 'en').text, 'Source: not stated');
    }
});

test('map-style: tile features are styled by the server\'s own properties', () => {
    assert.equal(isCluster({ cluster: true, point_count: 4, expansion_zoom: 7 }), true);
    assert.equal(isCluster({ count: 3, site_id: 'A', site_ids: 'A|B|C' }), false, 'folded sites are not a cluster');
    assert.deepEqual(basemapStyle('basemap', { kind: 'boundary', level: 'region' }, 2), { stroke: '#9d8fb3', width: 1.2 });
    assert.deepEqual(basemapStyle('basemap', { kind: 'boundary', level: 'departement' }, 2), { stroke: '#9d8fb3', width: 0.6, dash: [3, 2] });
    assert.deepEqual(basemapStyle('basemap', { kind: 'coastline' }, 2), { stroke: '#9d8fb3', width: 0.6, dash: [3, 2] });
    assert.equal(basemapStyle('basemap', { kind: 'land' }, 3).fill, '#fbf9f4');
    assert.deepEqual(networkStyle('network', { kind: 'cooperation' }).dash, [5, 4]);
    assert.deepEqual(networkStyle('network', { kind: 'coordinator' }).dash, []);
    const style = choroplethStyle((properties) => properties.population, POPULATION_CLASSES);
    assert.equal(style('areas', { level: 'departement', code: '77', population: 1400000 }, 3).fill, '#756bb1');
    assert.equal(style('areas', { level: 'region', code: '11', population: 12000000 }, 3), null, 'régions are not drawn');
    assert.equal(choroplethStyle(() => undefined, POPULATION_CLASSES)('areas', { level: 'departement' }, 3), null);
});

test('export: CSV quotes per RFC 4180 and GeoJSON is a FeatureCollection', () => {
    const features = [
        { type: 'Feature', geometry: { type: 'Point', coordinates: [3.29982, 48.54708] },
          properties: { site_id: 'P', name: 'Hôpital "A", Provins', role: 'cooperation', orpha_codes: [275752, 634518], extra: null } },
        { type: 'Feature', geometry: { type: 'Point', coordinates: [2, 48] }, properties: { site_id: 'Q', name: 'line\nbreak' } },
    ];
    const lines = featuresToCsv(features).split('\n');
    assert.equal(lines[0], 'site_id,name,role,orpha_codes,extra,lat,lon');
    assert.equal(lines[1], 'P,"Hôpital ""A"", Provins",cooperation,275752|634518,,48.54708,3.29982');
    assert.equal(lines[2], 'Q,"line');
    const sourced = featuresToCsv([{ type: 'Feature', geometry: { type: 'Point', coordinates: [2, 48] },
        properties: { source: CRCM, extra: 1, site_id: 'S', name: 'N' } }]).split('\n');
    assert.equal(sourced[0], 'site_id,name,source,extra,lat,lon', 'the full source, after the known columns');
    assert.equal(sourced[1], `S,N,"${CRCM}",1,48,2`);
    const collection = JSON.parse(featuresToGeoJson(features));
    assert.equal(collection.type, 'FeatureCollection');
    assert.deepEqual(collection.features, features);
});

test('coverage: shares are read from the contract\'s answer (per area code and share in [0, 1])', () => {
    const shares = coverageShares({
        results: [
            { code: '77', name: 'Seine-et-Marne', population: 1000, covered_population: 250, share: 0.25 },
            { code: '2A', name: 'Corse-du-Sud', population: 0, covered_population: 0, share: 0 },
        ],
        total: { population: 1000, covered_population: 250, share: 0.25 },
    });
    assert.deepEqual([...shares], [['77', 0.25], ['2A', 0]]);
    assert.equal(coverageShares({ results: [] }).size, 0);
});

test('search: importing the search module needs no window, document or map', async () => {
    assert.equal(typeof globalThis.window, 'undefined');
    const search = await import('../../web/js/search.js');
    assert.equal(typeof search.createSearch, 'function');
});

/* ---- in Chromium, against a real server ---- */

const ENTRY = '<script type="module" src="js/main.js"></script>';
const session = browserSession({ timeout: TIMEOUT });

/* The real index.html with its entry script removed, served at
 * /module-harness under the server's own headers (CSP included): modules are
 * imported by the tests, one at a time. Resolves to the page and its requests. */
async function openHarness() {
    const requests = [];
    const page = await session.newPage({}, requests);
    await page.route(`${session.base}/module-harness`, async (route) => {
        const response = await route.fetch({ url: `${session.base}/` });
        const html = await response.text();
        assert.ok(html.includes(ENTRY), 'index.html loads js/main.js');
        await route.fulfill({
            status: 200,
            contentType: 'text/html; charset=utf-8',
            headers: { 'Content-Security-Policy': response.headers()['content-security-policy'] },
            body: html.replace(ENTRY, ''),
        });
    });
    await page.goto(`${session.base}/module-harness`);
    await page.waitForFunction(() => window.L);
    return { page, requests };
}

const apiOrTiles = (requests) => requests.filter((url) => /\/(api|tiles)\//.test(new URL(url).pathname));

test('browser: importing any module but main.js builds nothing; main.js builds the page', async () => {
    const { page, requests } = await openHarness();
    const modules = readdirSync(join(repository, 'web', 'js')).filter((name) => name.endsWith('.js') && name !== 'main.js');
    assert.ok(modules.length >= 15, modules.join(' '));
    const seen = await page.evaluate(async (names) => {
        for (const name of names) await import(new URL(`js/${name}`, location.href).href);
        return {
            maps: document.querySelectorAll('.leaflet-container').length,
            maillage: 'maillage' in window,
            search: location.search,
            intro: document.querySelector('#results-intro').textContent,
            listed: document.querySelectorAll('#results-list > li').length,
        };
    }, modules);
    assert.deepEqual(seen, { maps: 0, maillage: false, search: '', intro: 'Choisissez une maladie et un lieu pour voir les centres les plus proches.', listed: 0 });
    assert.deepEqual(apiOrTiles(requests), [], 'no API or tile request');
    assert.deepEqual(page.problems, []);
    // The control: the entry module builds the map, as index.html does.
    await page.evaluate(() => import(new URL('js/main.js', location.href).href));
    // The main map in #map (the overseas insets are small maps of their own).
    await page.waitForFunction(() => window.maillage?.map && document.querySelector('#map').classList.contains('leaflet-container'));
    assert.deepEqual(page.problems, []);
    await page.closeAll();
});

test('browser: api.js reads the server\'s real answers, in the shapes it documents', async () => {
    const { page } = await openHarness();
    const answers = await page.evaluate(async () => {
        const api = await import(new URL('js/api.js', location.href).href);
        const failure = (promise) =>
            promise.then(
                () => null,
                (error) => ({ isApiError: error instanceof api.ApiError, status: error.status, message: error.message }),
            );
        const coverageAvailable = await api.coverageAvailable();
        return {
            conditions: await api.searchConditions('drépano', 'fr'),
            places: await api.searchPlaces('Provins'),
            viaGroup: await api.nearest({ lat: 48.85, lon: 2.35, orpha: 557, k: 1 }),
            noCondition: await api.nearest({ lat: 48.56297, lon: 3.28776, k: 1 }),
            uncovered: await api.nearest({ lat: 48.56297, lon: 3.28776, orpha: 558 }),
            farAway: await api.nearest({ lat: -20.93306, lon: 55.447, orpha: 586, k: 2 }),
            structures: await api.structures({ bbox: '3.2,48.5,3.4,48.6' }),
            badLat: await failure(api.nearest({ lat: 100, lon: 2 })),
            coverageAvailable,
            coverageProbe: (await fetch('api/coverage?orpha=232&radius_km=100&level=departement')).status,
            coverage: coverageAvailable
                ? [...api.coverageShares(await api.coverage({ orpha: 232, radius_km: 100, level: 'departement' }))]
                : await failure(api.coverage({ orpha: 232, radius_km: 100, level: 'departement' })),
        };
    });
    const keys = (object) => Object.keys(object).sort();

    const condition = answers.conditions.results[0];
    assert.deepEqual(keys(condition), ['label', 'level', 'matched', 'orpha', 'sites', 'status']);
    assert.equal(condition.orpha, 232);
    assert.equal(condition.label, 'Drépanocytose');
    assert.equal(typeof condition.sites, 'number');

    const place = answers.places.results[0];
    assert.deepEqual(keys(place), ['code', 'departement', 'lat', 'lon', 'name', 'population', 'postcodes']);
    assert.deepEqual([place.name, place.postcodes, place.departement], ['Provins', ['77160'], '77']);
    assert.ok(answers.places.results.every((entry) => Number.isFinite(entry.lat) && Number.isFinite(entry.lon)), 'every place has a position');

    const site = answers.viaGroup.results[0];
    assert.deepEqual(keys(site), [
        'address', 'centre_label', 'city', 'coordinator_site_id', 'distance_m', 'filiere', 'finess', 'lat', 'lon', 'name',
        'orpha_matched', 'phone', 'platform', 'postcode', 'public', 'role', 'site_id', 'source',
    ]);
    assert.match(site.source, /^« Retour sur les 1ères rencontres maladies rares de l'hôpital Necker » \(.+\); sources\/\S+\.txt$/);
    assert.equal(site.site_id, 'NECKER-MAREP');
    assert.deepEqual(site.orpha_matched, { orpha: 96346, label: 'Malformation anorectale' });
    assert.ok(Number.isFinite(site.distance_m) && Number.isFinite(site.lat) && Number.isFinite(site.lon));
    assert.equal(answers.viaGroup.message, undefined);
    assert.equal(answers.noCondition.results[0].orpha_matched, null, 'no condition asked: orpha_matched is null');
    assert.deepEqual(answers.uncovered.results, []);
    assert.match(answers.uncovered.message, /^Aucun site du réseau ne couvre « Syndrome de Marfan » \(ORPHA:558\)/);
    // From La Réunion the nearest CRCM is in metropolitan France: the results and a message.
    assert.equal(answers.farAway.results.length, 2);
    assert.ok(answers.farAway.results[0].distance_m > 1e6);
    assert.match(answers.farAway.message, /^Le site le plus proche qui couvre « Mucoviscidose » est à [\d\s\u202f\u00a0]+ km : /);

    assert.equal(answers.structures.type, 'FeatureCollection');
    assert.equal(answers.structures.truncated, false);
    const feature = answers.structures.features.find((entry) => entry.properties.site_id === 'PROVINS-COOP');
    assert.equal(feature.geometry.type, 'Point');
    assert.deepEqual(feature.geometry.coordinates, [3.29982, 48.54708]);
    assert.deepEqual(feature.properties.orpha_codes, [95455, 275752, 634518]);
    assert.match(feature.properties.source, /^« Nouveau site web de la Plateforme d'expertise maladies rares Grand Paris Est \(ESMARA\) »/);

    assert.deepEqual(answers.badLat, { isApiError: true, status: 400, message: "the parameter 'lat' must be between -90 and 90, got 100" });

    // /api/coverage: the probe agrees with the server; once served, its answer reads as shares in [0, 1].
    assert.equal(answers.coverageAvailable, answers.coverageProbe === 200);
    if (answers.coverageAvailable) {
        assert.ok(answers.coverage.length > 0);
        for (const [code, share] of answers.coverage) assert.ok(typeof code === 'string' && share >= 0 && share <= 1, `${code}: ${share}`);
    } else assert.deepEqual(answers.coverage, { isApiError: true, status: 404, message: 'there is no resource at /api/coverage' });
    assert.deepEqual(page.problems, []);
    await page.closeAll();
});

test('browser: the map module alone builds the map, its panes and the sites layer, and no list', async () => {
    const { page, requests } = await openHarness();
    await page.evaluate(async () => {
        const { createMap } = await import(new URL('js/map-view.js', location.href).href);
        const state = { lat: 48.56297, lon: 3.28776, zoom: 11 };
        window.harness = { state, view: createMap(document.getElementById('map'), state) };
    });
    await page.waitForFunction(() => performance.getEntriesByName('maillage:map-ready').length === 1);
    await page.locator('.site-marker[data-site-ids~="PROVINS-COOP"]').waitFor();
    const seen = await page.evaluate(() => {
        const { map } = window.harness.view;
        return {
            zoom: map.getZoom(),
            panes: ['areasPane', 'networkPane', 'etablissementsPane', 'sitesPane'].map((name) => map.getPane(name).style.zIndex),
            label: map.getContainer().getAttribute('aria-label'),
            maillage: 'maillage' in window,
            listed: document.querySelectorAll('#results-list > li').length,
        };
    });
    assert.deepEqual(seen, { zoom: 11, panes: ['250', '330', '340', '360'], label: 'Carte des centres maladies rares', maillage: false, listed: 0 });
    const paths = apiOrTiles(requests).map((url) => new URL(url).pathname);
    assert.ok(paths.some((path) => path.startsWith('/tiles/sites/11/')), 'sites tiles');
    assert.ok(paths.some((path) => path.startsWith('/tiles/basemap/11/')), 'basemap tiles');
    assert.deepEqual(paths.filter((path) => !path.startsWith('/tiles/')), [], 'tiles only, no API request');
    // refreshSites() asks the sites tiles again, for the state's condition now.
    const tileWithCondition = page.waitForRequest((request) => /\/tiles\/sites\/11\/\d+\/\d+\.mvt\?orpha=232$/.test(request.url()));
    await page.evaluate(() => {
        window.harness.state.orpha = 232;
        window.harness.view.refreshSites();
    });
    await tileWithCondition;
    assert.deepEqual(page.problems, []);
    await page.closeAll();
});

test('browser: the search module alone finds the Provins site for drépanocytose, list and markers', async () => {
    const { page, requests } = await openHarness();
    await page.evaluate(async () => {
        const { createSearch } = await import(new URL('js/search.js', location.href).href);
        const byId = (id) => document.getElementById(id);
        const map = window.L.map(byId('map')).setView([46.6, 2.4], 6);
        const state = { orpha: 232, condition: 'Drépanocytose' };
        const calls = { conditionChanged: 0 };
        const search = createSearch({
            map,
            state,
            elements: {
                conditionInput: byId('condition-input'), conditionListbox: byId('condition-listbox'),
                placeInput: byId('place-input'), placeListbox: byId('place-listbox'), status: byId('combobox-status'),
                intro: byId('results-intro'), message: byId('results-message'), list: byId('results-list'),
                geolocate: byId('geolocate-button'), publicSelect: byId('public-select'),
            },
            onConditionChanged: () => calls.conditionChanged++,
        });
        window.harness = { map, state, calls, search };
        search.choosePlace(48.56297, 3.28776, 'Provins');
    });
    const first = page.locator('#results-list > li').first();
    await first.waitFor();
    await page.waitForFunction(() => !document.body.classList.contains('is-loading'));
    assert.equal((await first.locator('.result-title').textContent()).trim(), 'Centre hospitalier de Provins');
    assert.equal((await first.locator('.site-via').textContent()).trim(), 'via : Drépanocytose et maladies associées');
    assert.equal(await page.textContent('#results-intro'), 'Pour « Drépanocytose » près de Provins');
    assert.equal(await page.getAttribute('.rank-marker[data-site-ids~="PROVINS-COOP"]', 'data-rank'), '1');
    assert.equal(await page.locator('.place-marker').count(), 1);
    assert.equal(await page.inputValue('#place-input'), 'Provins');
    const url = new URL(page.url());
    assert.deepEqual([url.searchParams.get('orpha'), url.searchParams.get('place'), url.searchParams.get('lat')], ['232', 'Provins', '48.56297']);
    const paths = apiOrTiles(requests).map((entry) => new URL(entry));
    assert.deepEqual(paths.map((entry) => entry.pathname), ['/api/nearest'], 'one request, no tiles');
    assert.deepEqual(Object.fromEntries(paths[0].searchParams), { lat: '48.562970', lon: '3.287760', orpha: '232', k: '10', lang: 'fr' });
    // Clearing the condition tells the page and lists every site near the place.
    await page.fill('#condition-input', 'Drépanocytose');
    await page.fill('#condition-input', '');
    await page.waitForFunction(() => document.querySelector('#results-intro').textContent === 'Tous les sites près de Provins');
    assert.deepEqual(await page.evaluate(() => [window.harness.calls.conditionChanged, window.harness.state.orpha]), [1, undefined]);
    assert.equal(new URL(page.url()).searchParams.get('orpha'), null);
    assert.equal(await page.locator('.leaflet-container').count(), 1, 'only the map the test made');
    assert.deepEqual(page.problems, []);
    await page.closeAll();
});
