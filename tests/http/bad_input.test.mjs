// Bad input: every request below gets the right 4xx as RFC 9457
// problem+json (or a bodiless 413/414/431 from libmicrohttpd itself), and
// the server keeps serving (/healthz after each).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawGet, rawRequest } from './server.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const near = (query) => `/api/nearest?${query}`;
const box = (query) => `/api/structures?${query}`;
const coverage = (query) => `/api/coverage?${query}`;
const manyParameters = Array.from({ length: 40 }, (_, i) => `p${i}=${i}`).join('&');

// [name, target, expected statuses, options]
const cases = [
  ['coverage radius 0', coverage('orpha=586&radius_km=0'), [400]],
  ['coverage radius negative', coverage('orpha=586&radius_km=-10'), [400]],
  ['coverage radius 2001', coverage('orpha=586&radius_km=2001'), [400]],
  ['coverage radius NaN', coverage('orpha=586&radius_km=NaN'), [400]],
  ['coverage radius empty', coverage('orpha=586&radius_km='), [400]],
  ['coverage radius missing', coverage('orpha=586'), [400]],
  ['coverage unknown code', coverage('orpha=999999999&radius_km=50'), [400]],
  ['coverage unknown filière', coverage('filiere=NOPE&radius_km=50'), [400]],
  ['coverage orpha and filiere', coverage('orpha=586&filiere=MUCO&radius_km=50'), [400]],
  ['coverage neither', coverage('radius_km=50'), [400]],
  ['coverage repeated radius', coverage('orpha=586&radius_km=50&radius_km=60'), [400]],
  ['coverage level=commune', coverage('orpha=586&radius_km=50&level=commune'), [400]],
  ['service areas unknown code', '/api/service-areas?orpha=999999999', [400]],
  ['service areas both', '/api/service-areas?orpha=586&filiere=MUCO', [400]],
  ['lat=NaN', near('lat=NaN&lon=2'), [400]],
  ['lat=nan', near('lat=nan&lon=2'), [400]],
  ['lat=inf', near('lat=inf&lon=2'), [400]],
  ['lon=-inf', near('lat=48&lon=-inf'), [400]],
  ['lat=1e999', near('lat=1e999&lon=2'), [400]],
  ['lat=0x10', near('lat=0x10&lon=2'), [400]],
  ['lat empty', near('lat=&lon=2'), [400]],
  ['lat without =', near('lat&lon=2'), [400]],
  ['lat repeated', near('lat=48&lat=49&lon=2'), [400]],
  ['public repeated', near('lat=48&lon=2&public=enfants&public=adultes'), [400]],
  ['lat missing', near('lon=2'), [400]],
  ['lat and lon missing', '/api/nearest', [400]],
  ['k=0', near('lat=48&lon=2&k=0'), [400]],
  ['k=101', near('lat=48&lon=2&k=101'), [400]],
  ['k=10^9', near('lat=48&lon=2&k=1000000000'), [400]],
  ['k=abc', near('lat=48&lon=2&k=abc'), [400]],
  ['k=2.5', near('lat=48&lon=2&k=2.5'), [400]],
  ['k empty', near('lat=48&lon=2&k='), [400]],
  ['lat=91', near('lat=91&lon=2'), [400]],
  ['lat=-90.5', near('lat=-90.5&lon=2'), [400]],
  ['lon=-181', near('lat=48&lon=-181'), [400]],
  ['lon=180.5', near('lat=48&lon=180.5'), [400]],
  ['orpha=99999999 unknown', near('lat=48&lon=2&orpha=99999999'), [400]],
  ['orpha=abc', near('lat=48&lon=2&orpha=abc'), [400]],
  ['role=unknown', near('lat=48&lon=2&role=unknown'), [400]],
  ['public=x', near('lat=48&lon=2&public=x'), [400]],
  ['lat=%FF (not UTF-8)', near('lat=%FF&lon=2'), [400]],
  ['%00 in a value', near('lat=4%008&lon=2'), [400]],
  ['malformed escape %G1', near('lat=%G1&lon=2'), [400]],
  ['truncated escape %4', near('lat=48&lon=2%4'), [400]],
  ['too many parameters', near(`lat=48&lon=2&${manyParameters}`), [400]],
  ['bbox missing', '/api/structures', [400]],
  ['bbox with 3 numbers', box('bbox=1,2,3'), [400]],
  ['bbox with 5 numbers', box('bbox=1,2,3,4,5'), [400]],
  ['bbox S>N', box('bbox=0,50,10,40'), [400]],
  ['bbox text', box('bbox=west,south,east,north'), [400]],
  ['bbox lat 91', box('bbox=0,-10,10,91'), [400]],
  ['bbox NaN', box('bbox=0,NaN,10,50'), [400]],
  ['structures limit=0', box('bbox=-5,41,10,52&limit=0'), [400]],
  ['structures limit=10001', box('bbox=-5,41,10,52&limit=10001'), [400]],
  ['structures orpha=99999999', box('bbox=-5,41,10,52&orpha=99999999'), [400]],
  ['structures role=unknown', box('bbox=-5,41,10,52&role=unknown'), [400]],
  ['%00 in a path', '/api/nea%00rest?lat=48&lon=2', [400]],
  ['%FF in a path', '/api/%FF', [400]],
  ['malformed escape in a path', '/%zz', [400]],
  ['unknown route', '/nope', [404]],
  ['unknown api route', '/api/unknown', [404]],
  ['unknown site id', '/api/structures/no-such-site-synthetic', [404]],
  ['hidden file', '/.git/config', [404, 400]],
  ['/../ traversal', '/../../etc/passwd', [400], { raw: true }],
  ['/js/../../ traversal', '/js/../../Makefile', [400], { raw: true }],
  ['%2e%2e traversal', '/%2e%2e/%2e%2e/etc/passwd', [400], { raw: true }],
  ['%2E%2E%2F traversal', '/js/%2E%2E%2F%2E%2E%2FMakefile', [400], { raw: true }],
  ['..%2f in api path', '/api/structures/..%2f..%2fetc', [400], { raw: true }],
  ['/./ segment', '/./index.html', [400], { raw: true }],
  ['relative target', 'healthz', [400], { raw: true }],
  ['POST', '/api/nearest?lat=48&lon=2', [405], { method: 'POST', body: 'x=1' }],
  ['PUT', '/healthz', [405], { method: 'PUT', body: '{}' }],
  ['DELETE', '/', [405], { method: 'DELETE' }],
  ['PATCH', '/api/structures', [405], { method: 'PATCH', body: '[]' }],
  ['TRACE', '/healthz', [405], { raw: true, method: 'TRACE' }],
  ['made-up method', '/healthz', [405, 400, 501], { raw: true, method: 'FROB' }],
  ['100 KB URL', near(`lat=48&lon=2&q=${'a'.repeat(100 * 1024)}`), [414, 431, 413], { raw: true }],
  ['100 KB header', '/healthz', [431, 413, 414, 400], {
    raw: true, extra: `X-Filler: ${'b'.repeat(100 * 1024)}\r\n`,
  }],
];

async function send(target, options = {}) {
  if (options.raw) {
    const answer = await rawGet(server.url, target, options.method || 'GET', options.extra || '');
    return { status: answer.status, contentType: answer.headers['content-type'] || '', body: answer.body.toString() };
  }
  const response = await fetch(server.url + target, { method: options.method || 'GET', body: options.body });
  return { status: response.status, contentType: response.headers.get('content-type') || '', body: await response.text() };
}

function assertProblem(answer, name) {
  // libmicrohttpd may answer oversize requests itself (CONTRACT: allowed).
  if ([413, 414, 431].includes(answer.status) && !answer.contentType.includes('problem')) return;
  assert.equal(answer.contentType, 'application/problem+json', `${name}: content type`);
  const problem = JSON.parse(answer.body);
  for (const member of ['type', 'title', 'detail']) {
    assert.equal(typeof problem[member], 'string', `${name}: problem.${member}`);
  }
  assert.equal(problem.status, answer.status, `${name}: problem.status`);
}

test(`bad-input table has at least 40 requests (${cases.length})`, () => {
  assert.ok(cases.length >= 40);
});

for (const [name, target, statuses, options] of cases) {
  test(`bad input: ${name} -> ${statuses.join('/')}`, async () => {
    const answer = await send(target, options);
    assert.ok(statuses.includes(answer.status),
      `${name}: got ${answer.status} ${answer.body.slice(0, 300)}`);
    assertProblem(answer, name);
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, `${name}: /healthz after it`);
    assert.equal((await health.json()).status, 'ok');
  });
}

test('a body sent with GET is ignored and the connection stays usable', async () => {
  const { host } = new URL(server.url);
  const answer = await rawRequest(server.url,
    `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\nhello` +
    `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  assert.equal(answer.status, 200);
});

test('no 5xx: the metrics never counted a server error', async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.doesNotMatch(text, /maillage_requests_total\{[^}]*status="5\d\d"\}/);
});
