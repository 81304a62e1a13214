#!/usr/bin/env bash
# Page benchmark: loads / in headless Chromium (Debian's /usr/bin/chromium via
# playwright-core from tests/) against `maillage serve` on a free loopback
# port, with a cold cache each run, and reports
#   - first meaningful paint: the "maillage:map-ready" performance mark (the
#     basemap and the sites layers have drawn their first tiles; js/map-view.js),
#     with first contentful paint beside it;
#   - bytes transferred for the first view (encoded, i.e. compressed, sizes
#     of every response until the network is idle).
# Targets (issue 5): paint < 1500 ms, transfer < 400 KB. Exit status 1 when
# a target is missed. Usage: tools/bench-page.sh [RUNS] (default 5).
# Environment: BUILD (default build). Writes $BUILD/bench-page.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
runs=${1:-5}
binary="$BUILD/maillage"
database="$BUILD/maillage.sqlite"
if [ ! -x "$binary" ] || [ ! -f "$database" ]; then
    echo "bench-page: build first (make all dataset)" >&2
    exit 1
fi
tools/build-web.sh
tools/install-npm.sh tests

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
log=$(mktemp)
"$binary" serve --db "$database" --listen "127.0.0.1:$port" --web web >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done

BASE="http://127.0.0.1:$port" RUNS="$runs" OUT="$BUILD/bench-page.json" \
PLAYWRIGHT="$root/tests/node_modules/playwright-core/index.mjs" node --input-type=module <<'SCRIPT'
import { writeFileSync } from 'node:fs';
const { chromium } = await import(process.env.PLAYWRIGHT);
const base = process.env.BASE;
const runs = Number(process.env.RUNS);
const PAINT_TARGET_MS = 1500;
const BYTES_TARGET = 400 * 1024;
const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
});
const results = [];
try {
    for (let run = 0; run < runs; run++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
        let bytes = 0;
        let responses = 0;
        const foreign = new Set();
        cdp.on('Network.loadingFinished', (event) => {
            bytes += event.encodedDataLength;
            responses++;
        });
        cdp.on('Network.requestWillBeSent', (event) => {
            if (!event.request.url.startsWith(base) && !event.request.url.startsWith('data:')) foreign.add(event.request.url);
        });
        await page.goto(`${base}/`, { waitUntil: 'load' });
        await page.waitForFunction(() => performance.getEntriesByName('maillage:map-ready').length > 0, null, { timeout: 15000 });
        await page.waitForLoadState('networkidle');
        const timing = await page.evaluate(() => ({
            ready: performance.getEntriesByName('maillage:map-ready')[0].startTime,
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
            domContentLoaded: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
        }));
        results.push({ ...timing, bytes, responses, foreign: [...foreign] });
        console.log(`run ${run + 1}: map ready ${timing.ready.toFixed(0)} ms, FCP ${timing.fcp?.toFixed(0)} ms, ` +
            `${(bytes / 1024).toFixed(1)} KB in ${responses} responses`);
        await context.close();
    }
} finally {
    await browser.close();
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = {
    runs,
    first_meaningful_paint_ms: median(results.map((r) => r.ready)),
    first_contentful_paint_ms: median(results.map((r) => r.fcp ?? 0)),
    transferred_bytes: median(results.map((r) => r.bytes)),
    foreign_requests: [...new Set(results.flatMap((r) => r.foreign))],
    targets: { first_meaningful_paint_ms: PAINT_TARGET_MS, transferred_bytes: BYTES_TARGET },
};
writeFileSync(process.env.OUT, `${JSON.stringify({ summary, results }, null, 1)}\n`);
const paintOk = summary.first_meaningful_paint_ms < PAINT_TARGET_MS;
const bytesOk = summary.transferred_bytes < BYTES_TARGET;
console.log(`median first meaningful paint: ${summary.first_meaningful_paint_ms.toFixed(0)} ms ` +
    `(target < ${PAINT_TARGET_MS}) ${paintOk ? 'ok' : 'MISSED'}`);
console.log(`median first contentful paint: ${summary.first_contentful_paint_ms.toFixed(0)} ms`);
console.log(`median transferred: ${(summary.transferred_bytes / 1024).toFixed(1)} KB ` +
    `(target < ${BYTES_TARGET / 1024} KB) ${bytesOk ? 'ok' : 'MISSED'}`);
if (summary.foreign_requests.length) console.log(`requests to other hosts: ${summary.foreign_requests.join(' ')}`);
process.exit(paintOk && bytesOk && summary.foreign_requests.length === 0 ? 0 : 1);
SCRIPT
