// patient.test.mjs — the patient's next step after finding a centre, in
// headless Chromium against a real `maillage serve`, on a desktop (1280×800)
// and a phone (375×667): the drépanocytose-from-Provins flow, each card's way
// there (geo: and tel: links, directions in the chosen map service, the
// distance in km, the address copied), the map fitted to the place and the
// results, the keyboard path from a card to its marker and back, the phone's
// list first with its map/list switch, the embed in a 360×480 iframe, axe-core,
// and no request to another host. The pure helpers of card-links.js run in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, screenshotElement, seriousViolations } from './browser.mjs';
import { browserSession, pick, assertClean } from './session.mjs';
import { MAP_SERVICES, mapService, geoUri, telHref, phoneText, addressLines } from '../../web/js/card-links.js';

const TIMEOUT = 15000;
const PROVINS = { lat: 48.56297, lon: 3.28776 };
const PROVINS_SEARCH = `orpha=232&lat=${PROVINS.lat}&lon=${PROVINS.lon}&place=Provins`;
const PROVINS_STRUCTURE = 'Centre hospitalier de Provins';
const PROVINS_PHONE = { href: 'tel:0164604094', text: '01 64 60 40 94' };
const PROVINS_ADDRESS = 'Centre hospitalier de Provins\nROUTE DE CHALAUTRE\n77488 PROVINS';
const SIZES = [
    { name: 'desktop', options: { viewport: { width: 1280, height: 800 } }, phone: false },
    { name: 'phone', options: { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true }, phone: true },
];

const session = browserSession({ timeout: TIMEOUT });
const { open } = session;

async function firstResult(page) {
    const first = page.locator('#results-list > li').first();
    await first.waitFor();
    await page.waitForFunction(() => !document.body.classList.contains('is-loading'));
    return first;
}

const text = async (locator) => (await locator.textContent()).trim();
const noSidewaysScroll = (target) => target.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/* Whether the place searched and the first `count` result markers lie inside the map's view. */
async function viewHolds(page, count) {
    return page.evaluate((count) => {
        const { map, state } = window.maillage;
        const bounds = map.getBounds();
        const markers = [...document.querySelectorAll('.rank-marker')].slice(0, count);
        const inside = markers.map((marker) => {
            const box = marker.getBoundingClientRect();
            const frame = map.getContainer().getBoundingClientRect();
            const x = box.x + box.width / 2;
            const y = box.y + box.height / 2;
            return x >= frame.x && x <= frame.right && y >= frame.y && y <= frame.bottom;
        });
        return { place: bounds.contains([state.lat, state.lon]), markers: inside, count: markers.length };
    }, count);
}

/* Drépanocytose from Provins lists four hospitals (Provins, Fontainebleau, Melun, Créteil). */
async function assertViewFits(page) {
    const view = await viewHolds(page, 5);
    assert.equal(view.count, 4, 'four result markers');
    assert.deepEqual(view, { place: true, markers: [true, true, true, true], count: 4 }, 'the place and every result inside the map');
}

async function assertShown(locator, shown, what) {
    assert.equal(await locator.isVisible(), shown, `${what} ${shown ? 'shown' : 'hidden'}`);
}

// ---- card-links.js in Node ----

test('card links: geo: URI with the name, parentheses encoded', () => {
    assert.equal(
        geoUri({ lat: 48.562956, lon: 3.287763, name: PROVINS_STRUCTURE }),
        'geo:48.56296,3.28776?q=48.56296,3.28776(Centre%20hospitalier%20de%20Provins)',
    );
    assert.equal(
        geoUri({ lat: 48.5, lon: 2.6, name: 'Groupe hospitalier Sud Ile-de-France (GHSIF), Melun' }),
        'geo:48.50000,2.60000?q=48.50000,2.60000(Groupe%20hospitalier%20Sud%20Ile-de-France%20%28GHSIF%29%2C%20Melun)',
    );
    assert.equal(geoUri({ lat: -21.1, lon: 55.5, name: null }), 'geo:-21.10000,55.50000');
});

test('card links: tel: href holds digits and a leading +, the number reads in pairs', () => {
    assert.equal(telHref('0164604094'), 'tel:0164604094');
    assert.equal(telHref('01 64 60 40 94'), 'tel:0164604094');
    assert.equal(telHref('01.64.60.40.94'), 'tel:0164604094');
    assert.equal(telHref('+33 (0)1 64 60 40 94'), 'tel:+33164604094');
    assert.equal(telHref('00 33 1 64 60 40 94'), 'tel:+33164604094');
    assert.equal(telHref(''), null);
    assert.equal(telHref('n.c.'), null);
    assert.equal(telHref(null), null);
    assert.equal(telHref(undefined), null);
    assert.equal(phoneText('0164604094'), '01 64 60 40 94');
    assert.equal(phoneText('+33164604094'), '+33 1 64 60 40 94');
    assert.equal(phoneText(' 15 '), '15');
});

test('card links: every map service routes to the centre over https; an unknown choice is OpenStreetMap', () => {
    const from = { lat: 48.56297, lon: 3.28776 };
    const to = { lat: 48.55, lon: 3.30, name: 'Centre (test)' };
    assert.deepEqual(MAP_SERVICES.map((service) => service.id), ['osm', 'google', 'apple', 'waze']);
    for (const service of MAP_SERVICES) {
        const url = new URL(service.directions(from, to));
        assert.equal(url.protocol, 'https:', service.id);
        assert.match(decodeURIComponent(url.href), /48\.55000,3\.30000/, `${service.id} names the centre's position`);
    }
    assert.equal(mapService('osm').directions(from, to), 'https://www.openstreetmap.org/directions?route=48.56297%2C3.28776%3B48.55000%2C3.30000');
    assert.equal(mapService('unknown').id, 'osm');
    assert.equal(mapService(null).id, 'osm');
    assert.deepEqual(addressLines({ address: 'ROUTE DE CHALAUTRE', postcode: '77488', city: 'PROVINS' }), ['ROUTE DE CHALAUTRE', '77488 PROVINS']);
    assert.deepEqual(addressLines({ address: null, postcode: null, city: 'PROVINS' }), ['PROVINS']);
    assert.deepEqual(addressLines({}), []);
});

// ---- the page, at both sizes ----

for (const size of SIZES) {
    test(`${size.name}: drépanocytose from Provins, the first card shows the way there`, async () => {
        const page = await open('/', size.options);
        if (size.phone) {
            await assertShown(page.locator('#map'), false, 'the map (list first)');
            await assertShown(page.locator('#search-form'), true, 'the form');
            assert.equal(await page.getAttribute('#show-list', 'aria-pressed'), 'true');
            assert.equal(await page.getAttribute('#show-map', 'aria-pressed'), 'false');
        } else await assertShown(page.locator('.view-switch'), false, 'the switch (desktop)');
        await pick(page, '#condition-input', 'drépano', /répanocytose/i);
        await pick(page, '#place-input', 'Provins', /^Provins/);
        const first = await firstResult(page);
        assert.equal(await text(first.locator('.result-title')), PROVINS_STRUCTURE);
        assert.equal(await text(first.locator('.result-distance')), 'à 2,0 km');
        assert.equal(await text(first.locator('.result-address')), 'ROUTE DE CHALAUTRE, 77488 PROVINS');
        // The phone: a tel: link of digits, read in pairs.
        const tel = first.locator('.result-phone a');
        assert.equal(await tel.getAttribute('href'), PROVINS_PHONE.href);
        assert.equal(await text(tel), PROVINS_PHONE.text);
        // The phone's maps app, and directions in the default service (a link opened on click only).
        const geo = await first.locator('a.result-geo').getAttribute('href');
        assert.match(geo, /^geo:48\.5\d+,3\.2\d+\?q=48\.5\d+,3\.2\d+\(Centre%20hospitalier%20de%20Provins\)$/);
        const directions = first.locator('a.result-directions');
        assert.match(await directions.getAttribute('href'), /^https:\/\/www\.openstreetmap\.org\/directions\?route=/);
        assert.equal(await directions.getAttribute('target'), '_blank');
        assert.deepEqual((await directions.getAttribute('rel')).split(' ').sort(), ['noopener', 'noreferrer']);
        assert.equal(await first.getByRole('link', { name: 'Itinéraire (OpenStreetMap, nouvel onglet)', exact: true }).count(), 1, 'the link names its service');
        assert.equal(await text(first.locator('button.result-copy')), 'Copier l’adresse');
        assert.equal(await text(first.locator('button.result-show')), 'Voir sur la carte');
        assert.equal(await first.locator('.result-actions [aria-describedby="result-1-title"]').count(), 4, 'each action names its card');
        assert.equal(await page.locator('link[rel~="prefetch"], link[rel~="preconnect"], link[rel~="dns-prefetch"], iframe').count(), 0);
        assert.ok(await noSidewaysScroll(page), 'no horizontal scroll');
        if (size.phone) {
            await assertShown(page.locator('#map'), false, 'the map (the list comes first)');
            await assertShown(first, true, 'the first card');
            await page.click('#show-map');
            await assertShown(page.locator('#map'), true, 'the map after the switch');
            await assertShown(first, false, 'the list behind the map');
            assert.equal(await page.getAttribute('#show-map', 'aria-pressed'), 'true');
            const map = await page.locator('#map').boundingBox();
            const bar = await page.locator('.view-switch').boundingBox();
            assert.equal(Math.round(map.width), 375, 'the map takes the full width');
            assert.ok(Math.abs(map.y - (bar.y + bar.height)) <= 1, `the map starts under the switch (${map.y}, ${bar.y + bar.height})`);
            assert.ok(Math.abs(map.y + map.height - 667) <= 1, `the map reaches the bottom of the screen (${map.y + map.height})`);
            assert.ok(await noSidewaysScroll(page), 'no horizontal scroll on the map');
        }
        await assertViewFits(page);
        await screenshot(page, `patient-${size.name}`);
        if (size.phone) {
            await page.click('#show-list');
            await assertShown(first, true, 'the list after switching back');
            await assertShown(page.locator('#map'), false, 'the map after switching back');
        }
        await screenshotElement(first, `patient-card-${size.name}`);
        assertClean(page);
        await page.closeAll();
    });

    test(`${size.name}: keyboard from a card's map button to its marker and back (Escape, Enter)`, async () => {
        const page = await open(`/?${PROVINS_SEARCH}&zoom=9`, size.options);
        const first = await firstResult(page);
        for (const key of ['Escape', 'Enter']) {
            await first.locator('button.result-show').focus();
            await page.keyboard.press('Enter');
            await page.waitForFunction(() => document.activeElement?.classList.contains('rank-marker'));
            assert.equal(await page.evaluate(() => document.activeElement.dataset.rank), '1');
            assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), /^1\. Centre hospitalier de Provins, 2,0 km$/);
            assert.ok(await page.evaluate(() => document.activeElement.classList.contains('is-active')), 'the marker is highlighted');
            if (size.phone) {
                await assertShown(page.locator('#map'), true, 'the map');
                assert.equal(await page.getAttribute('#show-map', 'aria-pressed'), 'true');
            }
            await page.keyboard.press(key);
            await page.waitForFunction(() => document.activeElement?.id === 'result-1');
            await assertShown(first, true, `the card after ${key}`);
            if (size.phone) assert.equal(await page.getAttribute('#show-list', 'aria-pressed'), 'true');
        }
        assertClean(page);
        await page.closeAll();
    });

    test(`${size.name}: a link with a place but no zoom fits the map to the place and the results`, async () => {
        const page = await open(`/?${PROVINS_SEARCH}`, size.options);
        await firstResult(page);
        if (size.phone) {
            assert.equal(new URL(page.url()).searchParams.get('zoom'), null, 'a hidden map is not moved');
            await page.click('#show-map');
        }
        await page.waitForFunction(() => new URL(location.href).searchParams.get('zoom'));
        await assertViewFits(page);
        assertClean(page);
        await page.closeAll();
    });

    test(`${size.name}: a new search (the public changed) fits the map again`, async () => {
        // The map starts at Marseille; on a phone the list is shown and the map is fitted when next shown.
        const page = await open(`/?${PROVINS_SEARCH}&zoom=9&center=43.3,5.4`, size.options);
        await firstResult(page);
        if (!size.phone) assert.equal((await viewHolds(page, 5)).place, false, 'the map starts elsewhere');
        await page.selectOption('#public-select', 'enfants');
        await page.waitForFunction(() => new URL(location.href).searchParams.get('public') === 'enfants' && !document.body.classList.contains('is-loading'));
        if (size.phone) await page.click('#show-map');
        await page.waitForFunction(() => !(new URL(location.href).searchParams.get('center') ?? '').startsWith('43.3000'));
        await assertViewFits(page);
        assertClean(page);
        await page.closeAll();
    });

    test(`${size.name}: axe-core finds no serious or critical violation with results`, async () => {
        const page = await open(`/?${PROVINS_SEARCH}&zoom=9`, { ...size.options, bypassCSP: true });
        await firstResult(page);
        let violations = await seriousViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
        if (size.phone) {
            await page.click('#show-map');
            violations = await seriousViolations(page);
            assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
        }
        await page.closeAll();
    });
}

test('phone: a tap on a numbered marker shows its card in the list', async () => {
    const page = await open(`/?${PROVINS_SEARCH}`, SIZES[1].options);
    await firstResult(page);
    await page.tap('#show-map');
    const marker = page.locator('.rank-marker[data-rank="2"]');
    await marker.waitFor();
    await marker.tap();
    await page.waitForFunction(() => document.activeElement?.id === 'result-2');
    assert.equal(await page.locator('#result-2').isVisible(), true);
    assert.equal(await page.locator('#map').isVisible(), false);
    assert.equal(await page.getAttribute('#show-list', 'aria-pressed'), 'true');
    assert.match(await page.getAttribute('#result-2', 'class'), /\bis-active\b/);
    assertClean(page);
    await page.closeAll();
});

test('the map service chosen is used by every card and remembered', async () => {
    const page = await open(`/?${PROVINS_SEARCH}&zoom=9`);
    await firstResult(page);
    assert.equal(await page.inputValue('#map-service-select'), 'osm');
    assert.deepEqual(await page.locator('#map-service-select option').allTextContents(), ['OpenStreetMap', 'Google Maps', 'Apple Plans', 'Waze']);
    await page.selectOption('#map-service-select', 'google');
    const hrefs = await page.locator('a.result-directions').evaluateAll((links) => links.map((link) => link.href));
    assert.ok(hrefs.length === 4 && hrefs.every((href) => href.startsWith('https://www.google.com/maps/dir/')), hrefs.join(' '));
    assert.equal(await page.getByRole('link', { name: 'Itinéraire (Google Maps, nouvel onglet)', exact: true }).count(), 4);
    await page.reload();
    await firstResult(page);
    assert.equal(await page.inputValue('#map-service-select'), 'google', 'the choice is remembered');
    assert.match(await page.locator('a.result-directions').first().getAttribute('href'), /^https:\/\/www\.google\.com\/maps\/dir\//);
    assertClean(page);
    await page.closeAll();
});

test('copy the address: the clipboard gets it, a status says so, the focus stays', async () => {
    const page = await open(`/?${PROVINS_SEARCH}&zoom=9`, { permissions: ['clipboard-read', 'clipboard-write'] });
    const first = await firstResult(page);
    const copy = first.locator('button.result-copy');
    await copy.click();
    await page.waitForFunction(() => document.querySelector('#results-status').textContent !== '');
    assert.equal(await text(page.locator('#results-status')), 'Adresse de « Centre hospitalier de Provins » copiée');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), PROVINS_ADDRESS);
    assert.equal(await text(copy), 'Adresse copiée');
    assert.ok(await copy.evaluate((button) => document.activeElement === button), 'the focus stays on the button');
    await page.waitForFunction(() => document.querySelector('#results-list .result-copy').textContent === 'Copier l’adresse');
    // Without the Clipboard API (an insecure page, an old browser) a selection is copied instead.
    await page.evaluate(() => {
        Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
        window.copied = [];
        document.execCommand = (command) => {
            window.copied.push([command, document.getSelection().toString()]);
            return window.copyWorks;
        };
        window.copyWorks = true;
        document.querySelector('#results-status').textContent = '';
    });
    await copy.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#results-status').textContent !== '');
    assert.equal(await text(page.locator('#results-status')), 'Adresse de « Centre hospitalier de Provins » copiée');
    assert.deepEqual(await page.evaluate(() => window.copied), [['copy', PROVINS_ADDRESS]]);
    assert.ok(await copy.evaluate((button) => document.activeElement === button), 'the focus comes back to the button');
    assert.equal(await page.locator('body > textarea').count(), 0, 'the helper textarea is gone');
    // When nothing can copy, the address is left selected on the card and the status says so.
    await page.evaluate(() => {
        window.copyWorks = false;
        document.querySelector('#results-status').textContent = '';
    });
    await copy.click();
    await page.waitForFunction(() => document.querySelector('#results-status').textContent !== '');
    assert.equal(await text(page.locator('#results-status')), 'Copie automatique impossible : l’adresse est sélectionnée sur la fiche.');
    assert.equal(await page.evaluate(() => document.getSelection().toString()), 'ROUTE DE CHALAUTRE, 77488 PROVINS');
    assert.equal(await text(copy), 'Copier l’adresse');
    assertClean(page);
    await page.closeAll();
});

test('a centre without a phone in the data has no tel: link; the next one has', async () => {
    // Fort-de-France: the CHU de Martinique has no phone in FINESS; the next sites (Brittany) have one.
    const page = await open('/?lat=14.6&lon=-61.07&place=Fort-de-France&zoom=9');
    const first = await firstResult(page);
    assert.match(await first.getAttribute('data-site-ids'), /\bFORT-DE-FRANCE-ESMARA\b/);
    assert.equal(await first.locator('a[href^="tel:"]').count(), 0);
    assert.equal(await first.locator('.result-phone').count(), 0);
    assert.equal(await first.locator('a.result-geo').count(), 1);
    const second = page.locator('#results-list > li').nth(1);
    assert.match(await second.locator('a[href^="tel:"]').getAttribute('href'), /^tel:0\d{9}$/);
    assert.match(await text(second.locator('.result-distance')), /^à 6[\s\u202f\u00a0]\d{3} km$/);
    assertClean(page);
    await page.closeAll();
});

test('English: the card speaks English', async () => {
    const page = await open(`/?${PROVINS_SEARCH}&zoom=9&lang=en`);
    const first = await firstResult(page);
    assert.equal(await text(first.locator('.result-distance')), '2.0 km away');
    assert.equal(await text(first.locator('button.result-copy')), 'Copy the address');
    assert.equal(await text(first.locator('a.result-geo')), 'Maps app');
    assert.equal(await first.getByRole('link', { name: 'Directions (OpenStreetMap, new tab)', exact: true }).count(), 1);
    assert.equal(await text(page.locator('label[for="map-service-select"]')), 'Directions with');
    assert.equal(await text(page.locator('#show-map')), 'Map');
    assertClean(page);
    await page.closeAll();
});

test('embed in a 360×480 iframe: the search, the list, the map switch, no sideways scroll', async () => {
    // The host page is made up by the test (never asked from the server), at the server's origin.
    // axe is injected as an inline script, which the embed's CSP forbids: bypassed here only.
    const page = await session.newPage({ viewport: { width: 600, height: 700 }, bypassCSP: true });
    await page.route(`${session.base}/embed-host`, (route) =>
        route.fulfill({
            status: 200,
            contentType: 'text/html; charset=utf-8',
            body: `<!doctype html><html lang="fr"><title>Hôte</title><body><iframe src="${session.base}/embed" width="360" height="480" title="Centres maladies rares"></iframe></body></html>`,
        }),
    );
    await page.goto(`${session.base}/embed-host`);
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForFunction(() => window.maillage?.map);
    assert.equal(await frame.evaluate(() => [innerWidth, innerHeight].join('×')), '360×480');
    for (const field of ['#condition-input', '#place-input']) {
        const box = await frame.locator(field).boundingBox();
        assert.ok(box && box.width >= 300, `${field} is shown at full width (${box?.width})`);
    }
    assert.equal(await frame.locator('#map').isVisible(), false, 'the list first');
    await pick(frame, '#condition-input', 'drépano', /répanocytose/i);
    await pick(frame, '#place-input', 'Provins', /^Provins/);
    const first = frame.locator('#results-list > li').first();
    await first.waitFor();
    await frame.waitForFunction(() => !document.body.classList.contains('is-loading'));
    assert.equal(await text(first.locator('.result-title')), PROVINS_STRUCTURE);
    assert.equal(await text(first.locator('.result-distance')), 'à 2,0 km');
    assert.equal(await first.locator('a[href^="tel:"]').getAttribute('href'), PROVINS_PHONE.href);
    assert.ok(await noSidewaysScroll(frame), 'no horizontal scroll in the embed');
    let violations = await seriousViolations(frame);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    await screenshot(page, 'patient-embed-iframe-list');
    await frame.locator('#show-map').click();
    const map = await frame.locator('#map').boundingBox();
    const iframe = await page.locator('iframe').boundingBox();
    assert.ok(map.height >= 300, `the map fills the frame under the switch (${map.height} px)`);
    assert.ok(Math.abs(map.y + map.height - (iframe.y + iframe.height)) <= 3, 'the map reaches the bottom of the frame');
    assert.ok(await frame.locator('.rank-marker[data-rank="1"]').isVisible(), 'marker 1 on the map');
    assert.ok(await noSidewaysScroll(frame), 'no horizontal scroll on the map');
    violations = await seriousViolations(frame);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    await screenshot(page, 'patient-embed-iframe-map');
    assertClean(page);
    await page.closeAll();
});

session.testNoForeignRequests();
