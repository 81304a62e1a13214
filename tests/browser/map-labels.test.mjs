// map-labels.test.mjs — a map a patient can read, in headless Chromium against
// a real `maillage serve`: the place labels the page draws from the `places`
// tiles (labels.js: no two overlapping, each name once, the towns of the
// results always named, never over a result marker), the five overseas
// départements as insets of the national view (insets.js: their basemap and
// sites drawn, fitting at 1280×800 and 375×667, a click or Enter flies the
// map there), the scale bar, a permalink in Martinique, axe-core, and no
// request leaving the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, seriousViolations } from './browser.mjs';
import { browserSession, assertClean } from './session.mjs';

const TIMEOUT = 20000;
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 375, height: 667 } };
const BIG_CITIES = ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Bordeaux', 'Lille', 'Nantes', 'Strasbourg'];
const OVERSEAS = ['971', '972', '973', '974', '976'];
const MARTINIQUE = { south: 14.38, west: -61.23, north: 14.88, east: -60.81 };
const GUADELOUPE = { south: 15.83, west: -61.81, north: 16.52, east: -61.0 };

const session = browserSession({ timeout: TIMEOUT });
const { open } = session;

/* Waits until every name of `names` is placed; returns the placed labels. */
async function labelsWith(page, names) {
    await page.waitForFunction(
        (wanted) => {
            const placed = new Set(window.maillage.placedLabels().map((label) => label.name));
            return wanted.every((name) => placed.has(name));
        },
        names,
    );
    return page.evaluate(() => window.maillage.placedLabels());
}

function overlaps(a, b) {
    return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/* No two label boxes overlap, no name twice, every box inside the map. */
async function assertLabelsReadable(page, labels) {
    assert.ok(labels.length > 0, 'labels were placed');
    const size = await page.evaluate(() => window.maillage.map.getSize());
    const names = labels.map((label) => label.name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase());
    assert.equal(new Set(names).size, names.length, `no name placed twice: ${names.join(', ')}`);
    for (const [index, label] of labels.entries()) {
        assert.ok(label.width > 0 && label.height > 0, `${label.name} has a box`);
        assert.ok(label.x >= 0 && label.y >= 0 && label.x + label.width <= size.x && label.y + label.height <= size.y, `${label.name} inside the map`);
        for (const other of labels.slice(index + 1))
            assert.ok(!overlaps(label, other), `${label.name} and ${other.name} do not overlap`);
    }
}

/* The boxes of the elements matching `selector`, in CSS px of the map. */
function boxesInMap(page, selector) {
    return page.evaluate((query) => {
        const origin = window.maillage.map.getContainer().getBoundingClientRect();
        return [...document.querySelectorAll(query)].map((element) => {
            const box = element.getBoundingClientRect();
            return { x: box.left - origin.left, y: box.top - origin.top, width: box.width, height: box.height };
        });
    }, selector);
}

function centreInside(center, box) {
    return center.lat > box.south && center.lat < box.north && center.lng > box.west && center.lng < box.east;
}

/* The national view's insets: all five shown, each with its basemap drawn and
 * exactly the sites /api/structures finds in its view; returns their boxes. */
async function assertInsetsDrawn(page) {
    await page.waitForFunction(() => {
        const insets = window.maillage.insets();
        return insets.length === 5 && insets.every((inset) => inset.visible && inset.bounds && inset.basemapFeatures > 0);
    });
    const expected = await page.evaluate(async () => {
        const counts = {};
        for (const inset of window.maillage.insets()) {
            const answer = await (await fetch(`api/structures?bbox=${inset.bounds.join(',')}`)).json();
            counts[inset.code] = answer.features.length;
        }
        return counts;
    });
    assert.deepEqual(Object.keys(expected).sort(), OVERSEAS);
    assert.ok(expected['972'] >= 1, 'the data has a site in Martinique (else this test proves nothing about sites)');
    await page.waitForFunction(
        (counts) =>
            window.maillage.insets().every((inset) => {
                const sites = inset.sites.reduce((sum, point) => sum + (point.point_count ?? point.count ?? 1), 0);
                return sites === counts[inset.code];
            }),
        expected,
    );
    const captions = await page.locator('.inset .inset-caption').allTextContents();
    assert.deepEqual(captions, ['Guadeloupe', 'Martinique', 'Guyane', 'La Réunion', 'Mayotte']);
    return Promise.all(OVERSEAS.map((code) => page.locator(`.inset[data-code="${code}"]`).boundingBox()));
}

function assertNoOverlap(boxes, what) {
    for (const [index, box] of boxes.entries())
        for (const other of boxes.slice(index + 1)) assert.ok(!overlaps(box, other), `${what} do not overlap`);
}

test('national view at 1280×800: five insets over the map with their sites, city labels, scale bar, axe', async () => {
    // axe is injected as an inline script, which the page's CSP forbids: bypass it here only.
    const page = await open('/', { ...DESKTOP, bypassCSP: true });
    const boxes = await assertInsetsDrawn(page);
    const map = await page.locator('#map').boundingBox();
    for (const box of boxes) {
        assert.ok(box.x >= map.x && box.x + box.width <= map.x + map.width, 'inset within the map, across');
        assert.ok(box.y >= map.y && box.y + box.height <= map.y + map.height, 'inset within the map, down');
    }
    assertNoOverlap(boxes, 'insets');
    assert.equal(await page.evaluate(() => window.maillage.map.getZoom()), 6);
    const labels = await labelsWith(page, BIG_CITIES);
    await assertLabelsReadable(page, labels);
    const insetsInMap = await boxesInMap(page, '.inset');
    for (const label of labels) for (const inset of insetsInMap) assert.ok(!overlaps(label, inset), `${label.name} not under an inset`);
    const scale = page.locator('.leaflet-control-scale-line');
    assert.equal(await scale.count(), 1, 'one scale line: metric only');
    assert.match(await scale.textContent(), /^\d+ k?m$/);
    await screenshot(page, 'map-national-desktop');
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    // The buttons say what they do, in the page's language.
    assert.equal(await page.getAttribute('.inset[data-code="973"]', 'aria-label'), 'Afficher Guyane sur la carte');
    await page.click('#language-button');
    assert.equal(await page.textContent('.inset[data-code="973"] .inset-caption'), 'French Guiana');
    assert.equal(await page.getAttribute('.insets', 'aria-label'), 'Overseas départements');
    assertClean(page);
    await page.closeAll();
});

test('national view at 375×667: the insets in a row over the map\'s foot, in the screen, axe', async () => {
    const page = await open('/', { ...PHONE, bypassCSP: true });
    assert.equal(await page.locator('.insets').isVisible(), false, 'the list first: no insets without the map');
    await page.click('#show-map');
    const boxes = await assertInsetsDrawn(page);
    const map = await page.locator('#map').boundingBox();
    for (const box of boxes) {
        assert.ok(box.x >= 0 && box.x + box.width <= 375, 'inset within the screen width');
        assert.ok(box.y + box.height <= 667, 'inset within the screen height: no scrolling');
        assert.ok(box.y >= map.y && box.y + box.height <= map.y + map.height, 'inset over the map');
        assert.ok(Math.abs(box.y - boxes[0].y) < 1, 'one row');
        assert.ok(box.width >= 44 && box.height >= 44, 'a target large enough to touch');
    }
    assertNoOverlap(boxes, 'insets');
    const labels = await labelsWith(page, ['Paris', 'Lyon', 'Marseille']);
    await assertLabelsReadable(page, labels);
    await page.locator('.insets').scrollIntoViewIfNeeded();
    await screenshot(page, 'map-national-phone');
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    assertClean(page);
    await page.closeAll();
});

test('z6: the big cities are labelled, each once, none overlapping', async () => {
    const page = await open('/?zoom=6&center=46.6,2.4', DESKTOP);
    const labels = await labelsWith(page, BIG_CITIES);
    await assertLabelsReadable(page, labels);
    const order = labels.filter((label) => !label.pinned).map((label) => label.name);
    assert.equal(order[0], 'Paris', 'the lowest rank is placed first');
    assertClean(page);
    await page.closeAll();
});

test('z10 around Provins: Provins is labelled, no overlap across the tiles, insets hidden', async () => {
    const page = await open('/?zoom=10&center=48.5597,3.2994', DESKTOP);
    const labels = await labelsWith(page, ['Provins']);
    // The view spans several places tiles (a z10 tile is 256 px): names near
    // their edges must still be placed once.
    const tiles = await page.evaluate(() => {
        const { map } = window.maillage;
        const bounds = map.getPixelBounds();
        return Math.ceil(bounds.max.x / 256) - Math.floor(bounds.min.x / 256);
    });
    assert.ok(tiles >= 3, `the view spans ${tiles} tile columns`);
    assert.ok(labels.length >= 20, `many places named (${labels.length})`);
    await assertLabelsReadable(page, labels);
    assert.equal(await page.locator('.insets').isHidden(), true, 'no insets when zoomed into a region');
    await screenshot(page, 'map-provins-z10');
    assertClean(page);
    await page.closeAll();
});

test('results: the towns of the results are labelled, never over a result marker', async () => {
    const page = await open('/?orpha=232&lat=48.56297&lon=3.28776&place=Provins&zoom=9', DESKTOP);
    await page.locator('.rank-marker').first().waitFor();
    // The tiles spell the towns the results give in capitals (CRETEIL).
    const labels = await labelsWith(page, ['Provins', 'Fontainebleau', 'Melun', 'Créteil']);
    const pinned = labels.filter((label) => label.pinned).map((label) => label.name);
    for (const town of ['Provins', 'Fontainebleau', 'Melun', 'Créteil']) assert.ok(pinned.includes(town), `${town} pinned`);
    await assertLabelsReadable(page, labels);
    const markers = await boxesInMap(page, '.rank-marker, .place-marker');
    assert.ok(markers.length >= 4, 'the result markers are drawn');
    for (const label of labels) for (const marker of markers) assert.ok(!overlaps(label, marker), `${label.name} clear of the markers`);
    await screenshot(page, 'map-results-labels');
    assertClean(page);
    await page.closeAll();
});

test('insets: a click on Martinique flies the map there; Enter on Guadeloupe too', async () => {
    const page = await open('/', DESKTOP);
    await page.locator('.inset[data-code="972"]').waitFor();
    await page.click('.inset[data-code="972"]');
    await page.waitForFunction(
        (box) => {
            const center = window.maillage.map.getCenter();
            return window.maillage.map.getZoom() >= 9 && center.lat > box.south && center.lat < box.north && center.lng > box.west && center.lng < box.east;
        },
        MARTINIQUE,
    );
    await page.locator('.insets').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'map', 'the focus moves to the map');
    const url = new URL(page.url());
    const [lat] = (url.searchParams.get('center') ?? '').split(',').map(Number);
    assert.ok(lat > MARTINIQUE.south && lat < MARTINIQUE.north, 'the URL follows the map');
    await page.closeAll();

    const keyboard = await open('/', DESKTOP);
    await keyboard.locator('.inset[data-code="971"]').focus();
    await keyboard.keyboard.press('Enter');
    await keyboard.waitForFunction(
        (box) => {
            const center = window.maillage.map.getCenter();
            return window.maillage.map.getZoom() >= 8 && center.lat > box.south && center.lat < box.north && center.lng > box.west && center.lng < box.east;
        },
        GUADELOUPE,
    );
    assertClean(keyboard);
    await keyboard.closeAll();
});

test('Martinique: a permalink on Fort-de-France opens there with its results and label', async () => {
    const page = await open('/?lat=14.6036&lon=-61.074&place=Fort-de-France&zoom=11', DESKTOP);
    const first = page.locator('#results-list > li').first();
    await first.waitFor();
    assert.match(await first.locator('.result-title').textContent(), /Martinique/);
    const center = await page.evaluate(() => window.maillage.map.getCenter());
    assert.ok(centreInside(center, MARTINIQUE), 'centred on Fort-de-France');
    assert.ok(Math.abs(center.lat - 14.6036) < 0.01 && Math.abs(center.lng + 61.074) < 0.01);
    assert.equal(await page.evaluate(() => window.maillage.map.getZoom()), 11);
    const labels = await labelsWith(page, ['Fort-de-France']);
    await assertLabelsReadable(page, labels);
    assert.ok(labels.find((label) => label.name === 'Fort-de-France').pinned, 'the place searched is pinned');
    assert.equal(await page.locator('.insets').isHidden(), true);
    await page.locator('.rank-marker').first().waitFor();
    await screenshot(page, 'map-fort-de-france');
    assertClean(page);
    await page.closeAll();
});

session.testNoForeignRequests();
