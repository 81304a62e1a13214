// uncovered.test.mjs — when nothing covers the searched condition, the page
// says so plainly and offers the more specific conditions sites do cover
// (web/js/uncovered.js); and every API request names the page's language,
// so the server's texts follow the page (web/js/api.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { browserSession, pick, assertClean } from './session.mjs';

const TIMEOUT = 15000;
const session = browserSession({ timeout: TIMEOUT });
const { open } = session;

/* The API requests (path and query) the page made since `from`. */
function apiRequests(from, path) {
    return session.requests.slice(from).filter((url) => new URL(url).pathname.endsWith(path)).map((url) => new URL(url));
}

test('"Maladie neurologique rare" from Provins: the plain sentence, then covered conditions that search on a click', async () => {
    const page = await open('/');
    await pick(page, '#condition-input', 'Maladie neurologique rare', /^Maladie neurologique rare/);
    await pick(page, '#place-input', 'Provins', /^Provins/);
    await page.waitForSelector('#results-message .uncovered');
    const said = (await page.textContent('#results-message')).replace(/\s+/g, ' ');
    assert.match(said, /Aucun site du réseau ne couvre « Maladie neurologique rare » \(ORPHA:98006\)/);
    assert.match(said, /Des centres prennent en charge des maladies plus précises du groupe « Maladie neurologique rare »/);
    assert.match(said, /Filière\(s\) de santé concernée\(s\) dans nos données : .*FIMARAD/);
    assert.equal(await page.locator('#results-list > li').count(), 0, 'no result listed');
    const buttons = page.locator('#results-message button.uncovered-condition');
    assert.ok((await buttons.count()) >= 2, 'the covered conditions are buttons');
    const first = buttons.first();
    assert.match(await first.textContent(), /^Neurofibromatose\/schwannomatose \(4 site\(s\)\)$/);
    await screenshot(page, 'uncovered-neurology');
    // One click searches that condition: results, the URL and the field follow.
    await first.click();
    await page.locator('#results-list > li').first().waitFor();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('orpha') === '634518');
    assert.equal(await page.inputValue('#condition-input'), 'Neurofibromatose/schwannomatose');
    assert.equal(await page.locator('#results-message .uncovered').count(), 0, 'the help is gone');
    // Back returns to the group and its help.
    await page.goBack();
    await page.waitForSelector('#results-message .uncovered');
    assertClean(page);
    await page.closeAll();
});

test('in English the API answers in English: every API request names lang=en, the help is English', async () => {
    const from = session.requests.length;
    const page = await open('/?orpha=98006&lat=48.56297&lon=3.28776&place=Provins&lang=en');
    await page.waitForSelector('#results-message .uncovered');
    const said = (await page.textContent('#results-message')).replace(/\s+/g, ' ');
    assert.match(said, /No site of the network covers "Rare neurologic disease" \(ORPHA:98006\)/);
    assert.match(said, /Centres cover more specific conditions of the group "Rare neurologic disease"/);
    assert.equal(await page.locator('#results-message .no-site-message').getAttribute('lang'), null, 'English, as the page');
    const nearest = apiRequests(from, '/api/nearest');
    assert.ok(nearest.length > 0, 'the page asked /api/nearest');
    for (const url of nearest) assert.equal(url.searchParams.get('lang'), 'en', url.href);
    const api = session.requests.slice(from).map((url) => new URL(url)).filter((url) => url.pathname.includes('/api/'));
    for (const url of api) assert.equal(url.searchParams.get('lang'), 'en', url.href);
    // Back to French: asked again in French, the sentence follows.
    const before = session.requests.length;
    await page.click('#language-button');
    await page.waitForFunction(() => /Aucun site du réseau ne couvre « Maladie neurologique rare »/.test(document.querySelector('#results-message').textContent));
    assert.ok(apiRequests(before, '/api/nearest').some((url) => url.searchParams.get('lang') === 'fr'), 'nearest asked with lang=fr');
    assertClean(page);
    await page.closeAll();
});

session.testNoForeignRequests();
