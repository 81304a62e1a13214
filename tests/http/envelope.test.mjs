// The HTTP envelope: ETag/304, HEAD, gzip, Cache-Control, CORS and
// preflight, 405 Allow, static files (MIME types, confinement, CSP),
// /metrics and the access log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, rawGet } from './server.mjs';

const nearest = '/api/nearest?lat=48.85&lon=2.35&k=5';
const everything = '/api/structures?bbox=-180,-90,180,90';

let server;        // defaults, the repository's web/ page
let custom;        // --web <temporary dir> with every option set
let webDirectory;
let accessLog;

function makeWebDirectory() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'maillage-web-synthetic-'));
  const web = path.join(root, 'web');
  fs.mkdirSync(path.join(web, 'sub', 'dir'), { recursive: true });
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>index synthetic</title>');
  fs.writeFileSync(path.join(web, 'embed.html'), '<!doctype html><title>embed synthetic</title>');
  fs.writeFileSync(path.join(web, 'app.js'), `// synthetic\n${'console.log("maillage");\n'.repeat(200)}`);
  fs.writeFileSync(path.join(web, 'module.mjs'), 'export const a = 1;\n');
  fs.writeFileSync(path.join(web, 'style.css'), 'body { margin: 0 }\n');
  fs.writeFileSync(path.join(web, 'data.json'), '{"synthetic":true}\n');
  fs.writeFileSync(path.join(web, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  fs.writeFileSync(path.join(web, 'image.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  fs.writeFileSync(path.join(web, 'favicon.ico'), Buffer.from([0, 0, 1, 0]));
  fs.writeFileSync(path.join(web, 'site.webmanifest'), '{"name":"synthetic"}\n');
  fs.writeFileSync(path.join(web, 'font.woff2'), Buffer.from('wOF2synthetic'));
  fs.writeFileSync(path.join(web, 'app.js.map'), '{"version":3}\n');
  fs.writeFileSync(path.join(web, '.hidden'), 'secret');
  fs.writeFileSync(path.join(web, 'sub', 'dir', 'file.txt'), 'nested');
  fs.writeFileSync(path.join(root, 'outside.txt'), 'outside the web directory');
  fs.symlinkSync(path.join(root, 'outside.txt'), path.join(web, 'escape.txt'));
  fs.symlinkSync(root, path.join(web, 'parent'));
  return { root, web };
}

before(async () => {
  server = await startServer();
  webDirectory = makeWebDirectory();
  accessLog = path.join(webDirectory.root, 'access.log');
  custom = await startServer({
    accessLog,
    args: ['--web', webDirectory.web,
      '--cors-origins', 'https://a.example,https://b.example',
      '--frame-ancestors', 'https://hopital.example https://chu.example',
      '--cache-max-age', '60'],
  });
});

after(async () => {
  await server?.stop();
  await custom?.stop();
  if (webDirectory) fs.rmSync(webDirectory.root, { recursive: true, force: true });
});

// node:http, so the body is left exactly as sent (fetch decodes gzip).
function get(url, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.end();
  });
}

test('ETag: strong, stable, independent of parameter order, dataset-tagged', async () => {
  const first = await get(server.url + nearest);
  assert.equal(first.status, 200);
  const tag = first.headers.etag;
  assert.match(tag, /^"[0-9a-f]{8}-[0-9a-f]{16}"$/);
  const again = await get(server.url + '/api/nearest?k=5&lon=2.35&lat=48.85');
  assert.equal(again.headers.etag, tag);
  const other = await get(server.url + '/api/nearest?lat=48.85&lon=2.35&k=6');
  assert.notEqual(other.headers.etag, tag);
  assert.equal(other.headers.etag.slice(0, 9), tag.slice(0, 9), 'same dataset part');
});

test('If-None-Match: 304 for the tag, W/, lists and *; 200 otherwise', async () => {
  const { headers } = await get(server.url + nearest);
  const tag = headers.etag;
  for (const value of [tag, `W/${tag}`, `"nope", ${tag}`, '*', `${tag.slice(0, -1)}-gz"`]) {
    const answer = await get(server.url + nearest, { 'if-none-match': value });
    assert.equal(answer.status, 304, `If-None-Match: ${value}`);
    assert.equal(answer.body.length, 0);
    assert.equal(answer.headers.etag, tag);
    assert.equal(answer.headers['cache-control'], 'public, max-age=300');
  }
  const changed = await get(server.url + nearest, { 'if-none-match': '"0000"' });
  assert.equal(changed.status, 200);
});

test('Cache-Control: API public 300 s, healthz/metrics/problems no-store, static 1 h', async () => {
  assert.equal((await get(server.url + nearest)).headers['cache-control'], 'public, max-age=300');
  assert.equal((await get(server.url + '/healthz')).headers['cache-control'], 'no-store');
  assert.equal((await get(server.url + '/metrics')).headers['cache-control'], 'no-store');
  assert.equal((await get(server.url + '/api/nearest?lat=x')).headers['cache-control'], 'no-store');
  assert.equal((await get(server.url + '/nope')).headers['cache-control'], 'no-store');
  assert.equal((await get(custom.url + '/app.js')).headers['cache-control'], 'public, max-age=3600');
  assert.equal((await get(custom.url + nearest)).headers['cache-control'], 'public, max-age=60');
});

test('long but reasonable URLs (8 KB) are served, not refused as oversize', async () => {
  const answer = await get(`${server.url}/api/nearest?lat=48.85&lon=2.35&filler=${'a'.repeat(8 * 1024)}`);
  assert.equal(answer.status, 200);
});

test('many short valueless parameters (a&b&c...) are parsed safely', async () => {
  const names = Array(30).fill('a'); // the densest target: 2 bytes per parameter; unknown, so ignored
  const answer = await get(`${server.url}/api/nearest?lat=1&lon=2&${names.join('&')}`);
  assert.equal(answer.status, 200);
  const many = await get(`${server.url}/healthz?${Array(40).fill('a').join('&')}`);
  assert.equal(many.status, 400);
});

test('absolute-form and * request targets', async () => {
  const absolute = await rawGet(server.url, `${server.url}/healthz`);
  assert.equal(absolute.status, 200);
  assert.match(absolute.body.toString(), /"status":"ok"/);
  const star = await rawGet(server.url, '*', 'OPTIONS');
  assert.equal(star.status, 204);
});

test('HEAD: the same headers as GET, no body', async () => {
  for (const target of [nearest, '/healthz', '/', '/nope']) {
    const full = await get(server.url + target);
    const head = await rawGet(server.url, target, 'HEAD');
    assert.equal(head.status, full.status, target);
    for (const name of ['content-type', 'etag', 'cache-control', 'content-length']) {
      assert.equal(head.headers[name], full.headers[name], `${target}: ${name}`);
    }
    assert.equal(head.body.length, 0, `${target}: HEAD has no body`);
  }
});

test('gzip when accepted and worth it; identical once decompressed', async () => {
  for (const target of [everything, '/metrics', '/']) {
    const plain = await get(server.url + target);
    assert.ok(plain.body.length > 1024, `${target} is large enough to compress`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(plain.headers.vary, /Accept-Encoding/);
    const packed = await get(server.url + target, { 'accept-encoding': 'br, gzip;q=0.8' });
    assert.equal(packed.headers['content-encoding'], 'gzip', target);
    assert.match(packed.headers.vary, /Accept-Encoding/);
    assert.ok(packed.body.length < plain.body.length);
    const unpacked = zlib.gunzipSync(packed.body);
    if (target === '/metrics') assert.match(unpacked.toString(), /maillage_requests_total/);
    else assert.deepEqual(unpacked, plain.body, target);
    if (plain.headers.etag) {
      assert.equal(packed.headers.etag, `${plain.headers.etag.slice(0, -1)}-gz"`);
      const again = await get(server.url + target, { 'accept-encoding': 'gzip', 'if-none-match': packed.headers.etag });
      assert.equal(again.status, 304, `${target}: gzip variant revalidates`);
      assert.equal(again.headers.etag, packed.headers.etag);
      assert.equal(again.headers['content-encoding'], undefined);
    }
  }
  const refused = await get(server.url + everything, { 'accept-encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
  const small = await get(server.url + '/healthz', { 'accept-encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined, 'tiny bodies stay plain');
});

test('cached tiles and answers: the kept gzip variant, the same bytes each time, is the body', async () => {
  for (const target of ['/tiles/basemap/6/32/22.mvt', '/api/service-areas?orpha=586']) {
    const plain = await get(server.url + target); // a miss: now cached, without a variant
    assert.equal(plain.status, 200, target);
    const made = await get(server.url + target, { 'accept-encoding': 'gzip' }); // makes it
    const kept = await get(server.url + target, { 'accept-encoding': 'gzip' }); // reads it
    for (const packed of [made, kept]) {
      assert.equal(packed.headers['content-encoding'], 'gzip', target);
      assert.equal(packed.headers.etag, `${plain.headers.etag.slice(0, -1)}-gz"`, target);
      assert.equal(Number(packed.headers['content-length']), packed.body.length, target);
      assert.deepEqual(zlib.gunzipSync(packed.body), plain.body, target);
    }
    assert.deepEqual(kept.body, made.body, `${target}: the kept variant`);
    const head = await get(server.url + target, { 'accept-encoding': 'gzip' }, 'HEAD');
    assert.equal(head.headers['content-length'], kept.headers['content-length'], `${target}: HEAD`);
    const again = await get(server.url + target);
    assert.equal(again.headers['content-encoding'], undefined, `${target}: plain stays plain`);
    assert.deepEqual(again.body, plain.body, target);
  }
});

test('CORS: * by default, on answers and problems; preflight 204', async () => {
  for (const target of [nearest, '/api/nearest?lat=x', '/nope']) {
    const answer = await get(server.url + target, { origin: 'https://anywhere.example' });
    assert.equal(answer.headers['access-control-allow-origin'], '*', target);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', target);
  }
  const preflight = await get(server.url + nearest, {
    origin: 'https://anywhere.example',
    'access-control-request-method': 'GET',
    'access-control-request-headers': 'if-none-match',
  }, 'OPTIONS');
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], '*');
  assert.match(preflight.headers['access-control-allow-methods'], /GET/);
  assert.match(preflight.headers['access-control-allow-methods'], /HEAD/);
  assert.match(preflight.headers['access-control-allow-methods'], /OPTIONS/);
  assert.match(preflight.headers['access-control-allow-headers'], /if-none-match/i);
  assert.equal(preflight.body.length, 0);
});

test('CORS: --cors-origins echoes a listed origin with Vary: Origin, nothing for others', async () => {
  const listed = await get(custom.url + nearest, { origin: 'https://b.example' });
  assert.equal(listed.headers['access-control-allow-origin'], 'https://b.example');
  assert.match(listed.headers.vary, /Origin/);
  const other = await get(custom.url + nearest, { origin: 'https://evil.example' });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  assert.match(other.headers.vary, /Origin/);
  const preflight = await get(custom.url + nearest, { origin: 'https://a.example' }, 'OPTIONS');
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://a.example');
});

test('405 with Allow for other methods', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const answer = await fetch(server.url + nearest, { method });
    assert.equal(answer.status, 405, method);
    assert.equal(answer.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(answer.headers.get('content-type'), 'application/problem+json');
    assert.equal((await answer.json()).status, 405);
  }
});

test('static files: MIME types', async () => {
  const expected = {
    '/': 'text/html; charset=utf-8',
    '/embed': 'text/html; charset=utf-8',
    '/index.html': 'text/html; charset=utf-8',
    '/app.js': 'text/javascript; charset=utf-8',
    '/module.mjs': 'text/javascript; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/data.json': 'application/json',
    '/icon.svg': 'image/svg+xml',
    '/image.png': 'image/png',
    '/favicon.ico': 'image/x-icon',
    '/site.webmanifest': 'application/manifest+json',
    '/font.woff2': 'font/woff2',
    '/app.js.map': 'application/json',
    '/sub/dir/file.txt': 'text/plain; charset=utf-8',
  };
  for (const [target, type] of Object.entries(expected)) {
    const answer = await get(custom.url + target);
    assert.equal(answer.status, 200, target);
    assert.equal(answer.headers['content-type'], type, target);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', target);
    assert.match(answer.headers.etag, /^"[0-9a-f]{16}"$/, target);
  }
  assert.match((await get(custom.url + '/')).body.toString(), /index synthetic/);
  assert.match((await get(custom.url + '/embed')).body.toString(), /embed synthetic/);
  const tag = (await get(custom.url + '/app.js')).headers.etag;
  assert.equal((await get(custom.url + '/app.js', { 'if-none-match': tag })).status, 304);
});

test('static files: nothing outside the directory, no hidden files, no listings', async () => {
  for (const target of ['/escape.txt', '/parent/outside.txt', '/.hidden', '/sub', '/sub/', '/sub/dir',
    '/missing.js', '/index.html/x']) {
    const answer = await get(custom.url + target);
    assert.equal(answer.status, 404, target);
    assert.equal(answer.headers['content-type'], 'application/problem+json', target);
    assert.doesNotMatch(answer.body.toString(), /outside the web directory|secret|nested/);
  }
  for (const target of ['/../outside.txt', '/%2e%2e/outside.txt', '/sub/..%2f..%2f..%2foutside.txt']) {
    const answer = await rawGet(custom.url, target);
    assert.equal(answer.status, 400, target);
    assert.doesNotMatch(answer.body.toString(), /outside the web directory/);
  }
});

test('pages: Content-Security-Policy keeps them on this server; frame-ancestors', async () => {
  const page = (await get(server.url + '/')).headers['content-security-policy'];
  assert.match(page, /default-src 'self'/);
  assert.match(page, /connect-src 'self'/);
  assert.match(page, /frame-ancestors 'self'(;|$)/);
  const embed = (await get(server.url + '/embed')).headers['content-security-policy'];
  assert.match(embed, /frame-ancestors \*(;|$)/);
  const configured = (await get(custom.url + '/embed')).headers['content-security-policy'];
  assert.match(configured, /frame-ancestors 'self' https:\/\/hopital\.example https:\/\/chu\.example/);
  const api = await get(server.url + nearest);
  assert.equal(api.headers['content-security-policy'], undefined);
});

test('/metrics: Prometheus text whose counters grow', async () => {
  const read = async () => {
    const answer = await get(server.url + '/metrics');
    assert.equal(answer.status, 200);
    assert.match(answer.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return answer.body.toString();
  };
  const count = (text, route, status) => {
    const match = new RegExp(`^maillage_requests_total\\{route="${route}",status="${status}"\\} (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  const before = await read();
  await get(server.url + nearest);
  await get(server.url + '/healthz');
  await get(server.url + '/nope');
  const after = await read();
  assert.equal(count(after, 'nearest', 200), count(before, 'nearest', 200) + 1);
  assert.equal(count(after, 'healthz', 200), count(before, 'healthz', 200) + 1);
  assert.equal(count(after, 'other', 404), count(before, 'other', 404) + 1);
  assert.ok(count(after, 'metrics', 200) >= 1);
  assert.match(after, /^# TYPE maillage_requests_total counter$/m);
  assert.match(after, /^# TYPE maillage_request_duration_seconds histogram$/m);
  assert.match(after, new RegExp(`^maillage_dataset_info\\{version="${server.version}"\\} 1$`, 'm'));
  assert.match(after, new RegExp(`^maillage_dataset_sites ${server.sites}$`, 'm'));
  assert.match(after, /^maillage_reloads_total \d+$/m);
  assert.match(after, /^maillage_nearest_cache_bytes \d+$/m);
  assert.match(after, /^# TYPE maillage_nearest_cache_builds_total counter$/m);
  assert.match(after, /^maillage_nearest_cache_builds_total \d+$/m);
  assert.match(after, /^maillage_nearest_cache_evictions_total \d+$/m);
  // Histogram: cumulative buckets, +Inf equals _count.
  const buckets = [...after.matchAll(/^maillage_request_duration_seconds_bucket\{route="nearest",le="([^"]+)"\} (\d+)$/gm)];
  assert.ok(buckets.length >= 10);
  assert.equal(buckets[0][1], '5e-05');
  for (let i = 1; i < buckets.length; i++) assert.ok(Number(buckets[i][2]) >= Number(buckets[i - 1][2]));
  const total = /^maillage_request_duration_seconds_count\{route="nearest"\} (\d+)$/m.exec(after);
  assert.equal(buckets.at(-1)[1], '+Inf');
  assert.equal(buckets.at(-1)[2], total[1]);
  // Every sample line is well-formed.
  for (const line of after.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    assert.match(line, /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$/, line);
  }
});

test('access log: one complete line per request', async () => {
  await get(custom.url + '/healthz');
  await get(custom.url + '/api/nearest?lat=%FF');
  await rawGet(custom.url, '/odd%0Atarget?\x01', 'GET');
  // Raw bytes above 0x7f are escaped as \xHH: 4 log bytes each, still one bounded line.
  const binary = await rawGet(custom.url, `/${'\xff'.repeat(3000)}`, 'GET');
  assert.ok([400, 414].includes(binary.status), `raw bytes: ${binary.status}`);
  // The line is written before the answer is sent, so it is there now.
  const lines = fs.readFileSync(accessLog, 'utf8').split('\n').filter(Boolean);
  const pattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (GET|HEAD|OPTIONS|POST) \S+ \d{3} \d+ \d+$/;
  for (const line of lines) assert.match(line, pattern);
  for (const line of lines) assert.ok(line.length < 2400, `a log line of ${line.length} bytes`);
  assert.ok(lines.some((line) => / GET \/healthz 200 \d+ \d+$/.test(line)));
  assert.ok(lines.some((line) => / GET \/api\/nearest\?lat=%FF 400 \d+ \d+$/.test(line)));
});
