// browser.mjs — shared setup of the browser tests (not a test file itself).
//
// Owns: starting the maillage server (through tests/http/server.mjs, the
// HTTP suite's helper), launching Debian's Chromium through playwright-core,
// recording every request the pages make, and saving screenshots under
// build/test-artifacts/. Invariants: Chromium runs headless with a fresh
// temporary profile (Playwright gives each launch its own user-data-dir) and
// without background networking; every page opened through openPage() has
// its requests, console errors and page errors recorded for the checks.
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repository = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(repository, 'build', 'test-artifacts');

const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
    '--disable-quic',
];

/* Starts `maillage serve` (tests/http/server.mjs) serving this repository's web/. */
export async function startServer() {
    // MAILLAGE_TEST_BASE_URL runs the tests against an already running server instead.
    if (process.env.MAILLAGE_TEST_BASE_URL) return { base: process.env.MAILLAGE_TEST_BASE_URL.replace(/\/$/, ''), stop() {} };
    const { startServer: start } = await import('../http/server.mjs');
    const server = await start({ args: ['--web', join(repository, 'web')] });
    return { base: server.url.replace(/\/$/, ''), stop: () => server.stop() };
}

export async function launchBrowser() {
    return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/* A page in a fresh context; its requests go to `record` (shared by all
 * pages of a test file), its console errors and page errors to page.problems. */
export async function openPage(browser, record, options = {}) {
    const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
        locale: 'fr-FR',
        ...options,
    });
    const page = await context.newPage();
    page.problems = [];
    page.on('request', (request) => record.push(request.url()));
    page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
        const text = message.text();
        // A 204/404 for an optional resource is logged by Chromium as an error; CSP never.
        if (message.type() === 'error' && /Content Security Policy|Uncaught|TypeError|ReferenceError/.test(text))
            page.problems.push(`console: ${text}`);
    });
    page.closeAll = () => context.close();
    return page;
}

export async function screenshot(page, name) {
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/* A screenshot of one element (a locator), e.g. a result card. */
export async function screenshotElement(locator, name) {
    await mkdir(artifacts, { recursive: true });
    await locator.screenshot({ path: join(artifacts, `${name}.png`) });
}

/* URLs of `record` that reach any host other than the test server. */
export function foreignRequests(record, base) {
    const origin = new URL(base).origin;
    return record.filter((url) => {
        if (url.startsWith('data:')) return false;
        if (url.startsWith('blob:')) return new URL(url.slice(5)).origin !== origin;
        try {
            return new URL(url).origin !== origin;
        } catch {
            return true;
        }
    });
}

/* Runs axe-core on the page; returns its serious and critical violations. */
export async function seriousViolations(page) {
    await page.addScriptTag({ path: join(repository, 'tests', 'node_modules', 'axe-core', 'axe.min.js') });
    const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, {
            runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        });
        return result.violations.map((violation) => ({
            id: violation.id,
            impact: violation.impact,
            help: violation.help,
            targets: violation.nodes.slice(0, 5).map((node) => node.target.join(' ')),
        }));
    });
    return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
