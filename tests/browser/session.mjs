// session.mjs — one browser session per test file (not a test file itself).
//
// Owns the setup the browser tests share: browserSession() registers the
// node:test hooks that start `maillage serve` and headless Chromium before a
// file's tests and close both after them; it opens pages with the file's
// default timeout whose requests are recorded (in session.requests unless
// the caller passes its own record, as modules.test.mjs does), and registers
// the closing test "no request leaves the test server". Also the page
// helpers page, network and planner tests share (pick, assertClean).
// Invariants: call browserSession() once, at the top level of a test file
// (node:test hooks); call session.testNoForeignRequests() last, so that its
// check sees the requests of every page the file opened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openPage, foreignRequests } from './browser.mjs';

/* timeout: each page's default timeout (ms); onPage(page): called on every
 * page open() makes, before it navigates (e.g. to watch its requests). */
export function browserSession({ timeout, onPage } = {}) {
    let server;
    let browser;
    const requests = [];

    before(async () => {
        server = await startServer();
        browser = await launchBrowser();
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
    });

    /* A page with the default timeout, not yet navigated; its requests go to
     * `record` (by default session.requests, which the closing test checks). */
    async function newPage(options, record = requests) {
        const page = await openPage(browser, record, options);
        page.setDefaultTimeout(timeout);
        return page;
    }

    /* A recorded page at `path` on the test server, once the map exists. */
    async function open(path, options) {
        const page = await newPage(options);
        onPage?.(page);
        await page.goto(`${server.base}${path}`);
        await page.waitForFunction(() => window.maillage?.map);
        return page;
    }

    function testNoForeignRequests() {
        test('no request leaves the test server', () => {
            assert.ok(requests.length > 20, `requests were recorded (${requests.length})`);
            assert.deepEqual(foreignRequests(requests, server.base), []);
        });
    }

    return {
        get base() {
            return server.base;
        },
        requests,
        newPage,
        open,
        testNoForeignRequests,
    };
}

/* Types `text` in the combobox `input` and clicks its first option matching `optionText`. */
export async function pick(page, input, text, optionText) {
    await page.locator(input).fill(text);
    const listbox = `#${await page.locator(input).getAttribute('aria-controls')}`;
    const option = page.locator(`${listbox} [role="option"]`).filter({ hasText: optionText }).first();
    await option.waitFor();
    await option.click();
}

export function assertClean(page) {
    assert.deepEqual(page.problems, [], 'no CSP violation, script error or page error');
}
