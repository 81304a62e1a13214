// modules.test.mjs — the page's pure modules in Node (no browser): URL state,
// result grouping, CSV/GeoJSON export. Fast checks of what the page tests
// exercise only through the DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readState, stateQuery } from '../../web/js/state.js';
import { groupByHospital } from '../../web/js/results.js';
import { featuresToCsv, featuresToGeoJson } from '../../web/js/export.js';
import { matchedOf, coverageShares } from '../../web/js/api.js';

test('state: a URL round-trips through readState and stateQuery', () => {
    const query = '?view=planner&orpha=232&condition=Dr%C3%A9panocytose&lat=48.56297&lon=3.28776&place=Provins&zoom=10&center=48.5000%2C3.0000&filiere=MCGRE&role=ccmr%2Ccrmr&platform=ESMARA&public=enfants&metric=coverage&radius_km=50&lang=en';
    const state = readState(query);
    assert.deepEqual(state, {
        view: 'planner', orpha: 232, condition: 'Drépanocytose', lat: 48.56297, lon: 3.28776, place: 'Provins',
        zoom: 10, center: [48.5, 3], filiere: 'MCGRE', roles: ['ccmr', 'crmr'], platform: 'ESMARA', public: 'enfants', metric: 'coverage', radius: 50, lang: 'en',
    });
    assert.deepEqual(readState(stateQuery(state)), state);
});

test('state: bad values are dropped, never trusted', () => {
    assert.deepEqual(readState('?orpha=abc&lat=91&lon=3&zoom=40&center=1,2,3&public=bebes&lang=de&view=x'), {});
    assert.deepEqual(readState('?lat=48.5'), {}, 'lat without lon');
    assert.deepEqual(readState('?lat=NaN&lon=Infinity'), {});
    assert.deepEqual(readState('?lat=1e3&lon=0x10'), {});
    assert.deepEqual(readState('?orpha=ORPHA:232&role=ccmr,<script>'), { orpha: 232, roles: ['ccmr'] });
    assert.deepEqual(readState('?orpha=0'), {});
});

test('results: sites of one hospital are grouped, in distance order', () => {
    const results = [
        { site_id: 'B', name: 'H1', finess: '1', lat: 1, lon: 1, distance_m: 10 },
        { site_id: 'C', name: 'H2', finess: '2', lat: 2, lon: 2, distance_m: 20 },
        { site_id: 'A', name: 'H1', finess: '1', lat: 1, lon: 1, distance_m: 10 },
        { site_id: 'D', name: 'H3', finess: null, lat: 3, lon: 3, distance_m: 30 },
    ];
    const groups = groupByHospital(results);
    assert.deepEqual(groups.map((group) => [group.rank, group.name, group.sites.map((site) => site.site_id)]), [
        [1, 'H1', ['B', 'A']],
        [2, 'H2', ['C']],
        [3, 'H3', ['D']],
    ]);
});

test('results: orpha_matched is read as an object or a code with a label', () => {
    assert.deepEqual(matchedOf({ orpha_matched: { orpha: 96346, label: 'Malformation anorectale' } }), { orpha: 96346, label: 'Malformation anorectale' });
    assert.deepEqual(matchedOf({ orpha_matched: 96346, orpha_matched_label: 'X' }), { orpha: 96346, label: 'X' });
    assert.equal(matchedOf({}), null);
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
    const collection = JSON.parse(featuresToGeoJson(features));
    assert.equal(collection.type, 'FeatureCollection');
    assert.deepEqual(collection.features, features);
});

test('coverage: shares are read from the answer, whatever the member names', () => {
    const shares = coverageShares({
        results: [
            { code: '77', population: 1000, covered_population: 250 },
            { code: '75', share: 0.9 },
            { code: '94', coverage: 80 },
            { code: '2A', population: 0 },
        ],
    });
    assert.deepEqual([...shares], [['77', 0.25], ['75', 0.9], ['94', 0.8]]);
    assert.deepEqual([...coverageShares({ features: [{ properties: { code: '01', share: 0.5 } }] })], [['01', 0.5]]);
    assert.equal(coverageShares({}).size, 0);
});
