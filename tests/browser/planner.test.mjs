// planner.test.mjs — the planner's coverage view ("who lives far from
// care"). First in Node: coverage.js (the question's parameters, the
// table's order, the CSV and its file name). Then in headless Chromium
// against a real `maillage serve`: mucoviscidose at 100 km paints the
// areas with the coverage classes (legend with its limits, the canvases
// repainted in those colours, /api/coverage asked with the right
// parameters), the table sorted by uncovered population, the totals, the
// CSV download, a click on a département, the switch to régions (by
// keyboard), a filière instead of a condition, the server's message when no
// site is selected, the service-areas layer (hidden while the server
// answers 404, drawn from a stubbed 200), English labels, axe-core.
// Screenshots in build/test-artifacts/ (planner-coverage*.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { screenshot, seriousViolations } from './browser.mjs';
import { browserSession, pick, assertClean } from './session.mjs';
import {
    coverageParameters,
    selectionParameters,
    sortByUncovered,
    coverageToCsv,
    coverageFileName,
    COVERAGE_CSV_COLUMNS,
    RADII_KM,
} from '../../web/js/coverage.js';
import { FILIERES } from '../../web/js/filieres.js';
import { COVERAGE_CLASSES, POPULATION_CLASSES } from '../../web/js/map-style.js';

const TIMEOUT = 20000;
/* The five legend lines, French and English (spaces of any kind read as one space). */
const LEGEND_FR = ['0 % – 25 %', '25 % – 50 %', '50 % – 75 %', '75 % – 90 %', '90 % – 100 %'];
const LEGEND_EN = ['0% – 25%', '25% – 50%', '50% – 75%', '75% – 90%', '90% – 100%'];

/* ---- in Node ---- */

const AREA = (code, population, covered, extra = {}) => ({
    code, name: `Area ${code}`, population, covered_population: covered, share: population ? covered / population : 0,
    median_km: 12.3, p90_km: 45.6, without_point_population: 0, serving_site: null, territory: 'metropole', ...extra,
});

test('coverage.js: the question follows the state (condition first, else filière; roles, public, radius, level)', () => {
    assert.equal(coverageParameters({}), null, 'nothing chosen: no question');
    assert.deepEqual(coverageParameters({ orpha: 586 }), { orpha: 586, role: undefined, public: undefined, radius_km: 100, level: 'departement' });
    assert.deepEqual(coverageParameters({ orpha: 586, filiere: 'MUCO', radius: 50, level: 'region', roles: ['ccmr', 'crmr'], public: 'enfants' }), {
        orpha: 586, role: 'ccmr,crmr', public: 'enfants', radius_km: 50, level: 'region',
    });
    assert.deepEqual(selectionParameters({ filiere: 'BRAIN TEAM', roles: [] }), { filiere: 'BRAIN TEAM', role: undefined, public: undefined });
    assert.deepEqual(RADII_KM, [20, 50, 100, 150, 200]);
});

test('coverage.js: areas sorted by uncovered population, CSV with one row per area, file name', () => {
    const body = {
        query: { orpha: 586, label: 'Mucoviscidose', filiere: null, radius_km: 100, level: 'departement', role: null, public: null },
        results: [
            AREA('01', 1000, 900, { region: '84' }),
            AREA('2A', 500, 0, { region: '94', median_km: null, p90_km: null }),
            AREA('77', 3000, 2700, { region: '11', serving_site: { site_id: 'S', name: 'Hôpital "A", Paris', population: 2000 } }),
            AREA('02', 300, 0, { region: '32' }),
        ],
    };
    // 77 and 02 both leave 300 people uncovered: the larger population first.
    assert.deepEqual(sortByUncovered(body.results).map((area) => area.code), ['2A', '77', '02', '01']);
    const lines = coverageToCsv(body).split('\n');
    assert.equal(lines[0], COVERAGE_CSV_COLUMNS.join(','));
    assert.equal(lines[0], 'code,name,territory,region,population,covered_population,uncovered_population,share,median_km,p90_km,without_point_population,serving_site_id,serving_site_name,serving_site_population');
    assert.equal(lines.length, body.results.length + 2, 'header, one line per area, final newline');
    assert.equal(lines[1], '2A,Area 2A,metropole,94,500,0,500,0,,,0,,,');
    assert.equal(lines[2], '77,Area 77,metropole,11,3000,2700,300,0.9,12.3,45.6,0,S,"Hôpital ""A"", Paris",2000');
    assert.equal(lines.at(-1), '');
    assert.equal(coverageFileName(body.query), 'couverture-ORPHA586-100km-departement.csv');
    assert.equal(coverageFileName({ orpha: null, filiere: 'BRAIN TEAM', radius_km: 50, level: 'region' }), 'couverture-BRAIN-TEAM-50km-region.csv');
});

test('filières: the 23 of geodata/filieres.csv, as the data spells them', async () => {
    const csv = await readFile(new URL('../../geodata/filieres.csv', import.meta.url), 'utf8');
    const names = csv.trimEnd().split('\n').slice(1).map((line) => line.split(',')[0]);
    assert.equal(FILIERES.length, 23);
    assert.deepEqual(FILIERES, names);
});

test('map-style: coverage classes are five viridis colours, none of the population classes', () => {
    assert.deepEqual(COVERAGE_CLASSES.map((entry) => entry.colour), ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725']);
    assert.deepEqual(COVERAGE_CLASSES.map((entry) => entry.upTo), [0.25, 0.5, 0.75, 0.9, Infinity]);
});

/* ---- in Chromium, against a real server ---- */

/* Every page open() makes also records its /api/coverage and /api/service-areas requests. */
function watchPlannerRequests(page) {
    page.coverageRequests = [];
    page.serviceAreaRequests = [];
    page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/coverage' && request.method() === 'GET') page.coverageRequests.push(Object.fromEntries(url.searchParams));
        if (url.pathname === '/api/service-areas') page.serviceAreaRequests.push({ method: request.method(), ...Object.fromEntries(url.searchParams) });
    });
}

const session = browserSession({ timeout: TIMEOUT, onPage: watchPlannerRequests });
const { open } = session;

/* The /api/coverage answer for these parameters (the one the page asked). */
function coverageAnswer(page, parameters) {
    return page.waitForResponse((response) => {
        const url = new URL(response.url());
        return url.pathname === '/api/coverage' && response.request().method() === 'GET' &&
            Object.entries(parameters).every(([name, value]) => url.searchParams.get(name) === String(value));
    });
}

/* Which coverage / population class colours the areas canvases hold (opaque pixels). */
async function paintedColours(page) {
    return page.evaluate(
        ({ coverage, population }) => {
            const key = (hex) => [1, 3, 5].map((index) => parseInt(hex.slice(index, index + 2), 16)).join(',');
            const wanted = new Map([...coverage.map((hex) => [key(hex), `coverage ${hex}`]), ...population.map((hex) => [key(hex), `population ${hex}`])]);
            const seen = new Set();
            for (const canvas of document.querySelectorAll('.leaflet-areas-pane canvas')) {
                const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
                for (let index = 0; index < data.length; index += 4 * 5)
                    if (data[index + 3] === 255) {
                        const found = wanted.get(`${data[index]},${data[index + 1]},${data[index + 2]}`);
                        if (found) seen.add(found);
                    }
            }
            return [...seen].sort();
        },
        { coverage: COVERAGE_CLASSES.map((entry) => entry.colour), population: POPULATION_CLASSES.map((entry) => entry.colour) },
    );
}

async function waitForCoveragePaint(page) {
    let colours = [];
    for (let attempt = 0; attempt < 100; attempt++) {
        colours = await paintedColours(page);
        if (colours.filter((name) => name.startsWith('coverage')).length >= 3 && !colours.some((name) => name.startsWith('population'))) return colours;
        await page.waitForTimeout(100);
    }
    assert.fail(`the areas were not repainted with the coverage classes: ${colours.join(' ')}`);
}

/* Clicks the map at (lat, lon) until a popup opens; returns its text. */
async function clickArea(page, lat, lon) {
    const point = await page.evaluate(([latitude, longitude]) => {
        const { map } = window.maillage;
        const inside = map.latLngToContainerPoint([latitude, longitude]);
        const box = map.getContainer().getBoundingClientRect();
        return { x: box.left + inside.x, y: box.top + inside.y };
    }, [lat, lon]);
    const popup = page.locator('.leaflet-popup-content');
    const text = async () => ((await popup.count()) ? ((await popup.first().textContent()) ?? '').trim() : '');
    for (let attempt = 0; attempt < 50; attempt++) {
        await page.mouse.click(point.x, point.y);
        // The popup opens, then gets its figures: wait for its text (a
        // loaded machine paints late), without clicking it shut again.
        for (let wait = 0; wait < 20 && !(await text()); wait++) await page.waitForTimeout(50);
        if (await text()) break;
    }
    return text();
}

/* Waits (up to 10 s) until the text of `selector` matches `pattern`, then
 * asserts it: the page fills some texts after an answer arrives, later on a
 * loaded machine. */
async function expectText(page, selector, pattern) {
    let text = '';
    for (let attempt = 0; attempt < 100; attempt++) {
        text = (await page.textContent(selector)) ?? '';
        if (pattern.test(text)) return text;
        await page.waitForTimeout(100);
    }
    assert.match(text, pattern, `${selector}`);
    return text;
}

async function legendLines(page) {
    return (await page.locator('#area-classes li').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim());
}

async function tableCodes(page) {
    return page.locator('#coverage-body tr').evaluateAll((rows) => rows.map((row) => row.dataset.code));
}

const uncovered = (area) => area.population - area.covered_population;

test('patient view: no coverage request, no choropleth legend', async () => {
    const page = await open('/?orpha=586&lat=45.75485&lon=4.83638&place=Lyon');
    await page.locator('#results-list > li').first().waitFor();
    await page.waitForTimeout(300);
    assert.deepEqual(page.coverageRequests, []);
    assert.deepEqual(page.serviceAreaRequests, []);
    assert.equal(await page.locator('#legend-areas').isHidden(), true);
    assert.equal(await page.locator('#planner').isHidden(), true);
    assertClean(page);
    await page.closeAll();
});

test('planner: mucoviscidose at 100 km — coverage choropleth, table by uncovered population, CSV', async () => {
    const page = await open('/?view=planner');
    await page.waitForSelector('#planner:not([hidden])');
    // Nothing chosen yet: the section is hidden, the controls say what to choose, coverage is not offered.
    assert.equal(await page.locator('#coverage').isHidden(), true);
    await expectText(page, '#coverage-selection', /Choisissez une maladie/);
    await page.waitForSelector('#metric-select option[value="coverage"][disabled]', { state: 'attached' });
    assert.equal(await page.inputValue('#radius-select'), '100', 'the radius is 100 km by default');
    assert.deepEqual(await page.locator('#radius-select option').evaluateAll((options) => options.map((entry) => entry.value)), ['20', '50', '100', '150', '200']);
    assert.equal(await page.locator('#filiere-select option').count(), 24, 'all filières, then the 23');
    assert.equal(await page.isChecked('#level-departement'), true);

    const answered = coverageAnswer(page, { orpha: 586, radius_km: 100, level: 'departement' });
    await pick(page, '#condition-input', 'mucoviscidose', /^Mucoviscidose/);
    await page.selectOption('#radius-select', '100');
    const body = await (await answered).json();
    assert.equal(body.query.orpha, 586);
    assert.ok(body.results.length >= 100, `${body.results.length} départements`);
    assert.deepEqual(page.coverageRequests.at(-1), { orpha: '586', radius_km: '100', level: 'departement', lang: 'fr' });

    // The choropleth: the coverage metric, its legend with the class limits, the canvases in its colours.
    await page.waitForSelector('#legend-areas[data-metric="coverage"]:not([hidden])');
    assert.equal(await page.inputValue('#metric-select'), 'coverage');
    assert.equal(await page.textContent('#legend-areas-title'), 'Part de la population à moins de 100 km d’un site, par département');
    assert.deepEqual(await legendLines(page), LEGEND_FR);
    assert.equal(await page.locator('#area-classes .swatch').count(), 5);
    const colours = await waitForCoveragePaint(page);
    assert.ok(colours.includes('coverage #440154') && colours.includes('coverage #fde725'), colours.join(' '));

    // The table: one row per area, most people not covered first.
    await page.waitForFunction((count) => document.querySelectorAll('#coverage-body tr').length === count, body.results.length);
    const byCode = new Map(body.results.map((area) => [area.code, area]));
    const codes = await tableCodes(page);
    const largest = Math.max(...body.results.map(uncovered));
    assert.equal(uncovered(byCode.get(codes[0])), largest, `first row ${codes[0]} has the largest uncovered population`);
    for (let index = 1; index < codes.length; index++)
        assert.ok(uncovered(byCode.get(codes[index - 1])) >= uncovered(byCode.get(codes[index])), `sorted at row ${index + 1}`);
    const first = byCode.get(codes[0]);
    const cells = await page.locator('#coverage-body tr').first().locator('th, td').allTextContents();
    assert.equal(cells.length, 7);
    assert.equal(cells[0], `${first.name} (${first.code})`);
    assert.equal(cells[1].replace(/\D/g, ''), String(first.population));
    assert.equal(cells[2].replace(/\D/g, ''), String(largest));
    assert.match(cells[3], /^\d+,\d\s%$/);
    assert.equal(cells[6], first.serving_site?.name ?? 'n.d.');
    const headers = await page.locator('#coverage-areas thead th').allTextContents();
    assert.deepEqual(headers, ['Département', 'Population', 'Non couverts', 'Part couverte', 'Médiane (km)', 'P90 (km)', 'Site principal']);
    assert.equal(await page.getAttribute('#coverage-areas thead th:nth-child(3)', 'aria-sort'), 'descending');

    // The totals above the table: France, metropolitan France, then each overseas département.
    const totals = await page.locator('#coverage-totals-body tr th').allTextContents();
    assert.deepEqual(totals, ['France', 'France métropolitaine', ...body.territories.slice(1).map((entry) => entry.name)]);
    assert.deepEqual(body.territories.slice(1).map((entry) => entry.code), ['971', '972', '973', '974', '976']);
    await page.waitForFunction(() => /^43 site\(s\) retenu\(s\), rayon de 100 km\.$/.test(document.querySelector('#coverage-status').textContent));
    await expectText(page, '#coverage-selection', /« Mucoviscidose »/);
    assert.equal((await page.textContent('#coverage-message')).trim(), '', 'no message: sites are selected');

    // The CSV: the table's rows in the table's order.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#coverage-export-csv')]);
    assert.equal(download.suggestedFilename(), 'couverture-ORPHA586-100km-departement.csv');
    const lines = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], COVERAGE_CSV_COLUMNS.join(','));
    assert.equal(lines.length, body.results.length + 1, 'header + one row per area');
    assert.deepEqual(lines.slice(1).map((line) => line.split(',')[0]), codes);
    assert.equal(lines[1].split(',')[6], String(largest));

    // The state is in the URL; the service-areas probe was one HEAD request,
    // and the toggle is there unless it was answered 404 (the cells are
    // fetched only when the toggle is on).
    const url = new URL(page.url());
    assert.deepEqual([url.searchParams.get('view'), url.searchParams.get('orpha')], ['planner', '586']);
    assert.deepEqual(page.serviceAreaRequests, [{ method: 'HEAD', orpha: '586', lang: 'fr' }]);
    const probe = await (await page.request.fetch(`${session.base}/api/service-areas?orpha=586`, { method: 'HEAD' })).status();
    assert.equal(await page.locator('#service-areas-field').isHidden(), probe === 404, `the probe answered ${probe}`);
    assert.equal(await page.locator('#legend-service-areas').isHidden(), true);
    await screenshot(page, 'planner-coverage');

    // A click on Loiret: its figures in words, in a popup and in the live region.
    const loiret = byCode.get('45');
    const popup = await clickArea(page, 47.95, 2.3);
    assert.match(popup, /^Loiret \(45\)/);
    assert.match(popup, /à moins de 100 km d’un site/);
    assert.ok(popup.replace(/[\s\u202f\u00a0]/g, '').includes(`${String(loiret.covered_population)}sur${String(loiret.population)}habitants`), popup);
    assert.match(popup, /médiane \d+ km ; 9 habitants sur 10 à moins de \d+ km/);
    assert.match(popup, /Site le plus proche du plus grand nombre : /);
    await page.waitForFunction(() => /^Loiret \(45\) : /.test(document.querySelector('#area-info').textContent));
    await screenshot(page, 'planner-coverage-popup');

    // Another radius: asked again, and the legend says it.
    const fifty = coverageAnswer(page, { orpha: 586, radius_km: 50, level: 'departement' });
    await page.selectOption('#radius-select', '50');
    await fifty;
    await page.waitForFunction(() => document.querySelector('#legend-areas-title').textContent.includes('50 km'));
    assert.equal(new URL(page.url()).searchParams.get('radius_km'), '50');
    assertClean(page);
    await page.closeAll();
});

test('planner: the level switch (keyboard) shows régions on the map, the table and the CSV', async () => {
    const page = await open('/?view=planner&orpha=586');
    await page.waitForSelector('#legend-areas[data-metric="coverage"]');
    await page.waitForSelector('#coverage-body tr');
    const answered = coverageAnswer(page, { orpha: 586, radius_km: 100, level: 'region' });
    await page.focus('#level-departement');
    await page.keyboard.press('ArrowDown');
    const body = await (await answered).json();
    assert.equal(await page.isChecked('#level-region'), true);
    assert.equal(body.results.length, 18);
    await page.waitForFunction(() => document.querySelector('#legend-areas-title').textContent.endsWith('par région'));
    await page.waitForFunction(() => document.querySelectorAll('#coverage-body tr').length === 18);
    assert.equal(await page.textContent('#coverage-area-header'), 'Région');
    await expectText(page, '#coverage-caption', /^Régions, du plus grand/);
    const codes = await tableCodes(page);
    const largest = Math.max(...body.results.map(uncovered));
    assert.equal(uncovered(body.results.find((area) => area.code === codes[0])), largest);
    assert.equal(new URL(page.url()).searchParams.get('level'), 'region');
    await waitForCoveragePaint(page);
    // A click in the Centre-Val de Loire names the région, not a département.
    const popup = await clickArea(page, 47.95, 2.3);
    assert.match(popup, /^Centre-Val de Loire/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#coverage-export-csv')]);
    assert.equal(download.suggestedFilename(), 'couverture-ORPHA586-100km-region.csv');
    const lines = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 19);
    await screenshot(page, 'planner-coverage-regions');
    // Back to départements.
    await page.focus('#level-region');
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction(() => document.querySelectorAll('#coverage-body tr').length > 100);
    assert.equal(new URL(page.url()).searchParams.get('level'), null);
    assertClean(page);
    await page.closeAll();
});

test('planner: a filière instead of a condition; the message when no site is selected', async () => {
    const page = await open('/?view=planner');
    await page.waitForSelector('#planner:not([hidden])');
    const muco = coverageAnswer(page, { filiere: 'MUCO', radius_km: 100, level: 'departement' });
    await page.selectOption('#filiere-select', 'MUCO');
    assert.equal((await (await muco).json()).selected_sites, 43);
    await page.waitForSelector('#coverage-body tr');
    await expectText(page, '#coverage-selection', /filière MUCO/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#coverage-export-csv')]);
    assert.equal(download.suggestedFilename(), 'couverture-MUCO-100km-departement.csv');
    // The population metric on request (in the URL), then coverage again by default.
    await page.selectOption('#metric-select', 'population');
    await page.waitForSelector('#legend-areas[data-metric="population"]');
    assert.equal(new URL(page.url()).searchParams.get('metric'), 'population');
    assert.equal(await page.locator('#coverage-body tr').count() > 0, true, 'the table stays');
    await page.selectOption('#metric-select', 'coverage');
    await page.waitForSelector('#legend-areas[data-metric="coverage"]');
    assert.equal(new URL(page.url()).searchParams.get('metric'), null);
    // A filière with no site in the data: the server's message, nobody covered.
    const none = coverageAnswer(page, { filiere: 'AnDDI' });
    await page.selectOption('#filiere-select', 'AnDDI');
    const body = await (await none).json();
    assert.equal(body.selected_sites, 0);
    await page.waitForFunction((message) => document.querySelector('#coverage-message').textContent === message, body.message);
    await expectText(page, '#coverage-message', /^Aucun site du réseau ne relève de la filière AnDDI/);
    await expectText(page, '#coverage-status', /^0 site\(s\) retenu\(s\)/);
    await screenshot(page, 'planner-coverage-message');
    assertClean(page);
    await page.closeAll();
});

test('planner: the service areas are drawn once the server answers 200 (stubbed here)', async () => {
    const page = await session.newPage();
    const cells = {
        type: 'FeatureCollection',
        features: [
            {
                type: 'Feature',
                geometry: { type: 'Polygon', coordinates: [[[4.5, 45.5], [5.2, 45.5], [5.2, 46.1], [4.5, 46.1], [4.5, 45.5]]] },
                properties: { site_ids: ['CRCM-LYON-HFME-PED'], position: [4.89, 45.74], population: 1000000 },
            },
            // A position that serves no land: no geometry, nothing drawn, no error.
            { type: 'Feature', geometry: null, properties: { site_ids: ['X'], position: [0, 0], population: 0 } },
        ],
    };
    const asked = [];
    await page.route(`${session.base}/api/service-areas?**`, (route) => {
        asked.push({ method: route.request().method(), ...Object.fromEntries(new URL(route.request().url()).searchParams) });
        return route.fulfill({ status: 200, contentType: 'application/geo+json', body: JSON.stringify(cells) });
    });
    await page.goto(`${session.base}/?view=planner&orpha=586`);
    await page.waitForSelector('#service-areas-field:not([hidden])');
    assert.equal(await page.locator('.leaflet-serviceAreas-pane path').count(), 0, 'not drawn until asked');
    await page.check('#layer-service-areas');
    await page.waitForSelector('.leaflet-serviceAreas-pane path');
    assert.equal(await page.locator('#legend-service-areas').isHidden(), false);
    assert.equal(await page.locator('.leaflet-serviceAreas-pane path').count(), 1);
    assert.deepEqual(asked, [{ method: 'HEAD', orpha: '586', lang: 'fr' }, { method: 'GET', orpha: '586', lang: 'fr' }], 'a HEAD probe, then the cells once shown');
    await screenshot(page, 'planner-service-areas');
    await page.uncheck('#layer-service-areas');
    await page.waitForFunction(() => document.querySelectorAll('.leaflet-serviceAreas-pane path').length === 0);
    assert.equal(await page.locator('#legend-service-areas').isHidden(), true);
    assertClean(page);
    await page.closeAll();
});

test('planner: English labels, legend and figures', async () => {
    const page = await open('/?view=planner&orpha=586');
    await page.waitForSelector('#coverage-body tr');
    await page.click('#language-button');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.waitForFunction(() => document.querySelector('#legend-areas-title').textContent.startsWith('Share'));
    assert.equal(await page.textContent('#legend-areas-title'), 'Share of the population within 100 km of a site, by département');
    assert.deepEqual(await legendLines(page), LEGEND_EN);
    assert.deepEqual(await page.locator('#coverage-areas thead th').allTextContents(), [
        'Département', 'Population', 'Not covered', 'Share covered', 'Median (km)', 'P90 (km)', 'Main site',
    ]);
    assert.equal(await page.textContent('label[for="radius-select"]'), 'Radius');
    assert.equal(await page.textContent('.level-switch legend'), 'Level');
    assert.equal(await page.textContent('label:has(#level-region) span'), 'Regions');
    assert.equal(await page.textContent('#coverage-heading'), 'Who lives far from a site?');
    await expectText(page, '#coverage-status', /^43 site\(s\) selected, 100 km radius\.$/);
    assert.deepEqual((await page.locator('#coverage-totals-body tr th').allTextContents()).slice(0, 2), ['France', 'Metropolitan France']);
    assert.match(await page.locator('#coverage-totals-body tr').first().locator('td').nth(2).textContent(), /^\d+\.\d%$/);
    assert.equal(await page.textContent('#coverage-export-csv'), 'Export the table as CSV');
    const popup = await clickArea(page, 47.95, 2.3);
    assert.match(popup, /^Loiret \(45\)/);
    assert.match(popup, /within 100 km of a site \([\d,]+ of [\d,]+ inhabitants\)/);
    await screenshot(page, 'planner-coverage-english');
    assertClean(page);
    await page.closeAll();
});

for (const path of ['/?view=planner&orpha=586', '/?view=planner&filiere=AnDDI&level=region&lang=en']) {
    test(`accessibility: axe-core finds no serious or critical violation on ${path}`, async () => {
        const page = await open(path, { bypassCSP: true });
        await page.waitForSelector('#coverage-totals-body tr');
        await page.waitForSelector('#legend-areas[data-metric="coverage"]');
        const violations = await seriousViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
        await page.closeAll();
    });
}

session.testNoForeignRequests();
