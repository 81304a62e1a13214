// page.test.mjs — the Leaflet page end to end in headless Chromium against a
// real `maillage serve`: the patient flow, history, the embed URL, the
// planner's exports, accessibility (axe-core) and the no-outside-request rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { screenshot, seriousViolations } from './browser.mjs';
import { browserSession, pick, assertClean } from './session.mjs';

const PROVINS_SITE = 'PROVINS-COOP';
const PROVINS_STRUCTURE = 'Centre hospitalier de Provins';
const TIMEOUT = 15000;

const session = browserSession({ timeout: TIMEOUT });
const { open } = session;

async function firstResult(page) {
    const first = page.locator('#results-list > li').first();
    await first.waitFor();
    return first;
}

async function assertMarkerOnMap(page, siteId) {
    const marker = page.locator(`.rank-marker[data-site-ids~="${siteId}"]`);
    await marker.waitFor();
    const box = await marker.boundingBox();
    const map = await page.locator('#map').boundingBox();
    assert.ok(box && map, 'marker and map have a box');
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    assert.ok(x >= map.x && x <= map.x + map.width && y >= map.y && y <= map.y + map.height, 'marker inside the map');
    return marker;
}

test('patient flow: drépano, Provins, the Provins cooperation site first with its marker', async () => {
    const page = await open('/');
    await pick(page, '#condition-input', 'drépano', /répanocytose/i);
    await pick(page, '#place-input', 'Provins', /^Provins/);
    const first = await firstResult(page);
    await page.waitForFunction(() => !document.body.classList.contains('is-loading'));
    assert.equal((await first.locator('.result-title').textContent()).trim(), PROVINS_STRUCTURE);
    assert.match(await first.getAttribute('data-site-ids'), new RegExp(`\\b${PROVINS_SITE}\\b`));
    assert.match(await first.textContent(), /km/);
    const marker = await assertMarkerOnMap(page, PROVINS_SITE);
    assert.equal(await marker.getAttribute('data-rank'), '1');
    assert.match(await marker.getAttribute('aria-label'), /Provins/);
    // The marker and the list entry lead to each other.
    await marker.click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'result-1');
    const url = new URL(page.url());
    assert.ok(url.searchParams.get('orpha'), 'the condition is in the URL');
    assert.ok(url.searchParams.get('lat') && url.searchParams.get('lon'), 'the place is in the URL');
    await screenshot(page, 'patient-flow');
    assertClean(page);
    await page.closeAll();
});

test('history: back and forward restore the searches', async () => {
    const page = await open('/');
    await pick(page, '#condition-input', 'drépano', /répanocytose/i);
    await pick(page, '#place-input', 'Provins', /^Provins/);
    await firstResult(page);
    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('#results-list > li').length === 0);
    assert.equal(await page.inputValue('#place-input'), '');
    assert.match(await page.inputValue('#condition-input'), /répanocytose/i);
    await page.goForward();
    const first = await firstResult(page);
    assert.equal((await first.locator('.result-title').textContent()).trim(), PROVINS_STRUCTURE);
    assert.equal(await page.inputValue('#place-input'), 'Provins');
    assertClean(page);
    await page.closeAll();
});

test('embed: the URL restores condition, place, zoom, list and markers', async () => {
    const page = await open('/embed?orpha=232&lat=48.56297&lon=3.28776&zoom=11');
    const first = await firstResult(page);
    await page.waitForFunction(() => document.querySelector('#condition-input').value.length > 0);
    assert.match(await page.inputValue('#condition-input'), /répanocytose/i);
    assert.equal((await first.locator('.result-title').textContent()).trim(), PROVINS_STRUCTURE);
    await assertMarkerOnMap(page, PROVINS_SITE);
    assert.equal(await page.evaluate(() => window.maillage.map.getZoom()), 11);
    const center = await page.evaluate(() => window.maillage.map.getCenter());
    assert.ok(Math.abs(center.lat - 48.56297) < 0.01 && Math.abs(center.lng - 3.28776) < 0.01, 'centred on the place');
    assert.equal(await page.locator('#planner').count(), 0, 'minimal chrome: no planner');
    const full = new URL(await page.getAttribute('#open-full', 'href'));
    assert.equal(full.searchParams.get('orpha'), '232');
    await screenshot(page, 'embed');
    assertClean(page);
    await page.closeAll();
});

test('planner: the share dialog gives a permalink and an iframe snippet', async () => {
    const page = await open('/?orpha=232&lat=48.56297&lon=3.28776&zoom=9');
    await firstResult(page);
    await page.click('#share-button');
    const permalink = new URL(await page.inputValue('#permalink'));
    assert.equal(permalink.searchParams.get('orpha'), '232');
    const snippet = await page.inputValue('#iframe-snippet');
    assert.match(snippet, /^<iframe src="[^"]*\/embed\?[^"]*orpha=232[^"]*" title="[^"]+"/);
    await screenshot(page, 'share-dialog');
    await page.keyboard.press('Escape');
    assertClean(page);
    await page.closeAll();
});

test('planner: export of the current selection downloads valid GeoJSON and CSV', async () => {
    const page = await open('/?view=planner&zoom=8&center=48.75,2.75');
    await page.waitForSelector('#export-geojson:not([disabled])');
    const rows = await page.locator('#selection-body tr').count();
    assert.ok(rows > 0, 'the selection table lists sites');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-geojson')]);
    assert.match(download.suggestedFilename(), /\.geojson$/);
    const collection = JSON.parse(await readFile(await download.path(), 'utf8'));
    assert.equal(collection.type, 'FeatureCollection');
    assert.equal(collection.features.length, rows);
    for (const feature of collection.features) {
        assert.equal(feature.type, 'Feature');
        assert.equal(feature.geometry.type, 'Point');
        const [lon, lat] = feature.geometry.coordinates;
        assert.ok(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90, 'WGS84 position');
        assert.equal(typeof feature.properties.site_id, 'string');
    }
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const lines = (await readFile(await csvDownload.path(), 'utf8')).trimEnd().split('\n');
    assert.match(lines[0], /^site_id,/);
    assert.equal(lines.length, rows + 1);
    await screenshot(page, 'planner');
    assertClean(page);
    await page.closeAll();
});

test('grouping: the sites of one hospital share one entry and one marker', async () => {
    // Near Créteil without a condition: the five Henri-Mondor sites come first.
    const page = await open('/?lat=48.79&lon=2.45&place=Cr%C3%A9teil');
    const first = await firstResult(page);
    const ids = (await first.getAttribute('data-site-ids')).split(' ');
    assert.ok(ids.length >= 2 && ids.every((id) => id.startsWith('MONDOR-')), ids.join(' '));
    assert.equal(await first.locator('.site').count(), ids.length);
    assert.match(await first.locator('.result-count').textContent(), new RegExp(`${ids.length} sites`));
    assert.equal(await page.locator('.rank-marker[data-site-ids~="MONDOR-ESMARA"]').count(), 1);
    assertClean(page);
    await page.closeAll();
});

test('matched through a group: the entry says "via : Malformation anorectale"', async () => {
    const page = await open('/?orpha=557&lat=48.85&lon=2.35&place=Paris');
    const first = await firstResult(page);
    assert.match(await first.getAttribute('data-site-ids'), /\bNECKER-MAREP\b/);
    assert.equal((await first.locator('.site-via').textContent()).trim(), 'via : Malformation anorectale');
    assertClean(page);
    await page.closeAll();
});

test('no covering site: an honest message instead of an empty list', async () => {
    const page = await open('/?orpha=558&lat=48.56297&lon=3.28776&place=Provins');
    await page.waitForSelector('#results-message .no-site-title');
    assert.match(await page.textContent('#results-message'), /Aucun site/);
    assert.equal(await page.locator('#results-list > li').count(), 0);
    assert.equal(await page.locator('.rank-marker').count(), 0);
    await screenshot(page, 'no-covering-site');
    assertClean(page);
    await page.closeAll();
});

test('planner: a click on a département says its population in words', async () => {
    const page = await open('/?view=planner&zoom=8&center=48.62,3.0');
    await page.waitForSelector('#selection-body tr');
    const map = await page.locator('#map').boundingBox();
    for (let attempt = 0; attempt < 50; attempt++) {
        await page.mouse.click(map.x + map.width / 2, map.y + map.height / 2);
        if ((await page.textContent('#area-info')).trim()) break;
        await page.waitForTimeout(100);
    }
    assert.match(await page.textContent('#area-info'), /Seine-et-Marne \(77\) : [\d\s\u202f\u00a0]+ habitants/);
    await screenshot(page, 'planner-area');
    assertClean(page);
    await page.closeAll();
});

test('mobile: one column, no sideways scrolling, form then list, the map behind the switch', async () => {
    const page = await open('/?orpha=232&lat=48.56297&lon=3.28776&place=Provins&zoom=9', {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
    });
    const first = await firstResult(page);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal overflow');
    const form = await page.locator('#search-form').boundingBox();
    const entry = await first.boundingBox();
    assert.ok(form.y < entry.y, 'form, then list');
    assert.equal(await page.locator('#map').isVisible(), false, 'the list first');
    await screenshot(page, 'mobile');
    await page.click('#show-map');
    const map = await page.locator('#map').boundingBox();
    assert.ok(map.width >= 380, 'the map takes the full width');
    assert.equal(await first.isVisible(), false, 'the map alone');
    assertClean(page);
    await page.closeAll();
});

test('language: the English toggle translates the page and sets lang', async () => {
    const page = await open('/');
    await page.click('#language-button');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal((await page.textContent('label[for="place-input"]')).trim(), 'Town or postcode');
    assert.equal(new URL(page.url()).searchParams.get('lang'), 'en');
    await screenshot(page, 'english');
    assertClean(page);
    await page.closeAll();
});

for (const path of ['/', '/?orpha=232&lat=48.56297&lon=3.28776&zoom=9', '/?view=planner', '/embed', '/embed?orpha=232&lat=48.56297&lon=3.28776&zoom=11']) {
    test(`accessibility: axe-core finds no serious or critical violation on ${path}`, async () => {
        // axe is injected as an inline script, which the page's CSP forbids: bypass it here only.
        const page = await open(path, { bypassCSP: true });
        if (path.includes('lat=')) await firstResult(page);
        if (path.includes('planner')) await page.waitForSelector('#selection-body tr');
        const violations = await seriousViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
        await page.closeAll();
    });
}

test('keyboard: the condition suggestion is chosen with arrows and Enter', async () => {
    const page = await open('/');
    await page.focus('#condition-input');
    await page.keyboard.type('drépano');
    await page.waitForSelector('#condition-listbox [role="option"]');
    assert.equal(await page.getAttribute('#condition-input', 'aria-expanded'), 'true');
    await page.keyboard.press('ArrowDown');
    const active = await page.getAttribute('#condition-input', 'aria-activedescendant');
    assert.ok(active, 'an option is active');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('#condition-input', 'aria-expanded'), 'false');
    assert.match(await page.inputValue('#condition-input'), /répanocytose/i);
    assert.ok(new URL(page.url()).searchParams.get('orpha'));
    // A result marker is a button: Enter moves the focus to its list entry.
    await page.goto(`${session.base}/?orpha=232&lat=48.56297&lon=3.28776&zoom=9`);
    const marker = await assertMarkerOnMap(page, PROVINS_SITE);
    await marker.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'result-1');
    assertClean(page);
    await page.closeAll();
});

session.testNoForeignRequests();
