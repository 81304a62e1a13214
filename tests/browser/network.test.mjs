// network.test.mjs — the real network beyond the seeds, end to end in
// headless Chromium against a real `maillage serve`: the 43 cystic-fibrosis
// centres (CRCM) of the arrêté du 16 janvier 2014 (geodata/network-crcm-2014.csv),
// each card's and popup's source line (with the designation's year, its 2017
// relabelling and the inferred-site caveat), the centres of one hospital
// each with its public and source, the planner's source column and CSV, the
// CRCM across France on the national map, and the far-away message from
// La Réunion (no CRCM there in the data). Screenshots (a Lyon card on a
// phone and on a desktop) in build/test-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { screenshot, screenshotElement, seriousViolations } from './browser.mjs';
import { browserSession, pick, assertClean } from './session.mjs';

const TIMEOUT = 15000;
const LYON = 'orpha=586&lat=45.75485&lon=4.83638&place=Lyon';
const BORDEAUX = 'orpha=586&lat=44.8378&lon=-0.5792&place=Bordeaux';
const SOURCE_FR = 'Source : arrêté du 16 janvier 2014 (CRCM) — liste de 2014, renouvelée en 2017 ; vérifiez auprès du centre';
const SOURCE_EN = 'Source: arrêté of 16 January 2014 (CRCM) — 2014 list, relabelled in 2017; check with the centre';
const INFERRED_FR = /^Site déduit de l[’']organisation de l[’']hôpital, non nommé par l[’']arrêté$/;
const INFERRED_EN = /^Site inferred from how the hospital is organised; the arrêté does not name it$/;
const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };

const session = browserSession({ timeout: TIMEOUT });
const { open } = session;

async function firstResult(page) {
    const first = page.locator('#results-list > li').first();
    await first.waitFor();
    await page.waitForFunction(() => !document.body.classList.contains('is-loading'));
    return first;
}

const text = async (locator) => (await locator.textContent()).trim();

test('CRCM: mucoviscidose from Lyon, the first card names the 2014 list and its 2017 relabelling', async () => {
    const page = await open('/');
    await pick(page, '#condition-input', 'mucoviscidose', /^Mucoviscidose/);
    await pick(page, '#place-input', 'Lyon', /^Lyon/);
    const first = await firstResult(page);
    assert.match(await first.getAttribute('data-site-ids'), /\bCRCM-LYON-HFME-PED\b/);
    const source = await text(first.locator('.site-source').first());
    assert.equal(source, SOURCE_FR);
    assert.match(source, /2014/);
    assert.match(source, /2017/);
    assert.doesNotMatch(await first.textContent(), /sources\/|notes\.md/, 'no repository file name on the card');
    // Femme-Mère-Enfant: the arrêté names the HCL, not the site, so the card says it was inferred.
    assert.match(await text(first.locator('.site-source-caveat')), INFERRED_FR);
    assert.equal(await text(first.locator('.site-public')), 'Public : enfants');
    assert.equal(await page.locator('#results-message').textContent(), '', 'no far-away message from Lyon');
    await screenshotElement(first, 'crcm-lyon-card-desktop');
    assertClean(page);
    await page.closeAll();
});

test('CRCM: the Lyon card reads on a 375 px phone, without sideways scrolling', async () => {
    const page = await open(`/?${LYON}&zoom=9`, PHONE);
    const first = await firstResult(page);
    await first.scrollIntoViewIfNeeded();
    assert.equal(await text(first.locator('.site-source').first()), SOURCE_FR);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal overflow');
    const card = await first.boundingBox();
    const line = await first.locator('.site-source').first().boundingBox();
    assert.ok(line.x >= card.x && line.x + line.width <= card.x + card.width + 0.5, 'the source line wraps inside the card');
    const size = await first.locator('.site-source').first().evaluate((node) => parseFloat(getComputedStyle(node).fontSize));
    assert.ok(size >= 13, `the source line stays readable (${size}px)`);
    await screenshotElement(first, 'crcm-lyon-card-phone');
    assertClean(page);
    await page.closeAll();
});

test('CRCM: in English the source line and the caveat are English', async () => {
    const page = await open(`/?${LYON}&zoom=9&lang=en`);
    const first = await firstResult(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(first.locator('.site-source').first()), SOURCE_EN);
    assert.match(await text(first.locator('.site-source-caveat')), INFERRED_EN);
    assert.equal(await text(first.locator('.site-public')), 'Patients: children');
    // Toggling back to French re-renders the line in French.
    await page.click('#language-button');
    await page.waitForFunction((expected) => document.querySelector('#results-list .site-source')?.textContent === expected, SOURCE_FR);
    assertClean(page);
    await page.closeAll();
});

test('CRCM: a hospital with two centres lists each with its own public and source line', async () => {
    // Bordeaux, Pellegrin: the adult CRCM is named by the arrêté, the paediatric one inferred, both on one FINESS site.
    const page = await open(`/?${BORDEAUX}&zoom=11`);
    const first = await firstResult(page);
    assert.deepEqual((await first.getAttribute('data-site-ids')).split(' ').sort(), ['CRCM-BORDEAUX-PELLEGRIN-ADU', 'CRCM-BORDEAUX-PELLEGRIN-PED']);
    assert.match(await text(first.locator('.result-count')), /^2 sites/);
    const site = (id) => first.locator(`.site[data-site-id="${id}"]`);
    assert.equal(await text(site('CRCM-BORDEAUX-PELLEGRIN-ADU').locator('.site-public')), 'Public : adultes');
    assert.equal(await text(site('CRCM-BORDEAUX-PELLEGRIN-PED').locator('.site-public')), 'Public : enfants');
    assert.equal(await text(site('CRCM-BORDEAUX-PELLEGRIN-ADU').locator('.site-source')), SOURCE_FR);
    assert.equal(await text(site('CRCM-BORDEAUX-PELLEGRIN-PED').locator('.site-source')), SOURCE_FR);
    assert.equal(await site('CRCM-BORDEAUX-PELLEGRIN-ADU').locator('.site-source-caveat').count(), 0, 'the named site has no caveat');
    assert.match(await text(site('CRCM-BORDEAUX-PELLEGRIN-PED').locator('.site-source-caveat')), INFERRED_FR);
    await screenshotElement(first, 'crcm-bordeaux-card');
    assertClean(page);
    await page.closeAll();
});

test('CRCM: the popup of a folded map point lists each centre with its public and source', async () => {
    const page = await open('/?center=44.83038,-0.6036&zoom=14');
    const marker = page.locator('.site-marker.is-folded[data-site-ids~="CRCM-BORDEAUX-PELLEGRIN-PED"]');
    await marker.waitFor();
    await marker.click();
    const popup = page.locator('.site-popup');
    await popup.waitFor();
    const entries = popup.locator('.popup-site');
    assert.equal(await entries.count(), 2);
    const facts = await entries.locator('.popup-facts').allTextContents();
    assert.deepEqual(facts.map((fact) => fact.replace(/^.* — /, '')).sort(), ['Public : adultes', 'Public : enfants']);
    assert.deepEqual(await entries.locator('.popup-source').allTextContents(), [SOURCE_FR, SOURCE_FR]);
    assert.equal(await popup.locator('.popup-source-caveat').count(), 1, 'only the inferred site carries the caveat');
    await screenshot(page, 'crcm-folded-popup');
    assertClean(page);
    await page.closeAll();
});

test('CRCM: seed sites cite their document by title and publisher, without the file name', async () => {
    const page = await open('/?lat=48.79&lon=2.45&place=Cr%C3%A9teil');
    const first = await firstResult(page);
    const sources = await first.locator('.site-source').allTextContents();
    assert.ok(sources.length >= 2);
    for (const source of sources)
        assert.equal(source, 'Source : « Nouveau site web de la Plateforme d\'expertise maladies rares Grand Paris Est (ESMARA) » (Hôpitaux universitaires Henri-Mondor, AP-HP)');
    assertClean(page);
    await page.closeAll();
});

test('CRCM: the national map shows the cystic-fibrosis centres across France', async () => {
    const page = await open('/?orpha=586');
    await page.waitForFunction(() => performance.getEntriesByName('maillage:map-ready').length === 1);
    // The sites layer, asked for ORPHA:586 only: every cluster and point drawn is a CRCM.
    await page.waitForFunction(() => {
        let total = 0;
        for (const node of document.querySelectorAll('.cluster-marker')) total += Number(node.textContent);
        for (const node of document.querySelectorAll('.site-marker')) total += node.dataset.siteIds.split(' ').length;
        return total >= 40;
    });
    const drawn = await page.evaluate(() => {
        const { map } = window.maillage;
        const box = map.getContainer().getBoundingClientRect();
        const positions = [...document.querySelectorAll('.cluster-marker, .site-marker')].map((node) => {
            const rect = node.getBoundingClientRect();
            return map.containerPointToLatLng([rect.x + rect.width / 2 - box.x, rect.y + rect.height / 2 - box.y]);
        });
        const lats = positions.map((position) => position.lat);
        const lngs = positions.map((position) => position.lng);
        const bounds = map.getBounds();
        return {
            markers: positions.length,
            latSpan: Math.max(...lats) - Math.min(...lats),
            lngSpan: Math.max(...lngs) - Math.min(...lngs),
            bbox: [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((value) => value.toFixed(5)).join(','),
        };
    });
    assert.ok(drawn.markers >= 15, `${drawn.markers} markers`);
    assert.ok(drawn.latSpan > 6 && drawn.lngSpan > 8, `spread over ${drawn.latSpan.toFixed(1)}° × ${drawn.lngSpan.toFixed(1)}°`);
    // The same view through /api/structures: MUCO sites in many départements.
    const features = await page.evaluate(async (bbox) => {
        const response = await fetch(`api/structures?bbox=${bbox}&orpha=586&limit=1000`);
        return (await response.json()).features.map((feature) => feature.properties);
    }, drawn.bbox);
    const muco = features.filter((site) => site.filiere === 'MUCO');
    const departements = new Set(muco.map((site) => site.finess.slice(0, 2)));
    assert.ok(muco.length >= 40, `${muco.length} MUCO sites in view`);
    assert.ok(departements.size >= 10, `MUCO sites in ${departements.size} départements`);
    assert.ok(muco.every((site) => /^Arrêté du 16 janvier 2014 \(CRCM\)/.test(site.source)), 'every MUCO site cites the arrêté');
    await screenshot(page, 'crcm-national');
    assertClean(page);
    await page.closeAll();
});

test('CRCM: the planner table has a short source column and the CSV the full source', async () => {
    const page = await open('/?view=planner&filiere=MUCO');
    await page.waitForSelector('#export-csv:not([disabled])');
    await page.waitForFunction(() => document.querySelectorAll('#selection-body tr').length >= 40);
    const headers = await page.locator('.selection-table th').allTextContents();
    assert.equal(headers.at(-1), 'Source');
    const cells = await page.locator('#selection-body tr td:last-child').allTextContents();
    for (const cell of cells) assert.match(cell, /^Arrêté du 16 janvier 2014 \(CRCM\), liste renouvelée en 2017( ; site déduit)?$/);
    assert.ok(cells.some((cell) => cell.endsWith('site déduit')) && cells.some((cell) => !cell.endsWith('site déduit')));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines.length, cells.length + 1);
    assert.ok(lines[0].split(',').includes('source'), lines[0]);
    const inferred = lines.filter((line) => line.includes('"Arrêté du 16 janvier 2014 (CRCM), annexe; JORF; site non nommé par l\'arrêté, déduit de l\'organisation de l\'établissement (voir network-crcm-2014.notes.md)"'));
    const named = lines.filter((line) => line.includes('"Arrêté du 16 janvier 2014 (CRCM), annexe; JORF",'));
    assert.equal(inferred.length + named.length, cells.length, 'every row carries its full source');
    assert.ok(inferred.length > 0 && named.length > 0);
    await page.click('#language-button');
    await page.waitForFunction(() => document.querySelector('#selection-body tr td:last-child')?.textContent.startsWith('Arrêté of 16 January 2014 (CRCM), list relabelled in 2017'));
    await screenshot(page, 'crcm-planner');
    assertClean(page);
    await page.closeAll();
});

test('La Réunion: the nearest CRCM is thousands of km away and the page says so above the list', async () => {
    const page = await open('/');
    await pick(page, '#condition-input', 'mucoviscidose', /^Mucoviscidose/);
    await pick(page, '#place-input', 'Saint-Denis', /974/);
    const first = await firstResult(page);
    const message = page.locator('#results-message .far-message');
    await message.waitFor();
    const said = await text(message);
    assert.match(said, /^Le site le plus proche qui couvre « Mucoviscidose » est à 8[\s\u202f\u00a0]\d{3} km : aucun site de ce réseau dans votre territoire\.$/);
    assert.equal(await page.locator('#results-message .no-site-title').count(), 0, 'sites are listed: not the "no site" title');
    assert.ok((await page.locator('#results-list > li').count()) > 0, 'the results are still listed');
    assert.ok((await message.boundingBox()).y < (await first.boundingBox()).y, 'the message is above the results');
    assert.match(await text(first.locator('.result-distance')), /^à 8[\s\u202f\u00a0]\d{3} km$/);
    await screenshot(page, 'crcm-reunion');
    // In English the answer is asked again: the server's sentence in English.
    await page.click('#language-button');
    await page.waitForFunction(() =>
        /^The nearest site that covers "Cystic fibrosis" is 8,\d{3} km away: no site of this network in your territory\.$/.test(
            document.querySelector('#results-message .far-message')?.textContent ?? '',
        ),
    );
    assert.equal(await page.locator('#results-message .far-message').getAttribute('lang'), null, 'English, as the page');
    assertClean(page);
    await page.closeAll();
});

for (const path of [`/?${LYON}&zoom=9`, `/?${BORDEAUX}&zoom=11&lang=en`]) {
    test(`accessibility: axe-core finds no serious or critical violation on ${path}`, async () => {
        const page = await open(path, { bypassCSP: true });
        await firstResult(page);
        const violations = await seriousViolations(page);
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
        await page.closeAll();
    });
}

session.testNoForeignRequests();
