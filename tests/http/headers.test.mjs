// Security headers on every response the server builds: answers, errors
// (400, 404, 405), 304, HEAD, OPTIONS preflight, a 204 tile, /metrics,
// /healthz, the pages and static files, gzip or not, with and without
// --cors-origins. Each carries X-Content-Type-Options: nosniff and
// Referrer-Policy: no-referrer (the page's address may name a patient's
// condition; the server needs no Referer). Only the pages carry a
// Content-Security-Policy. Answers libmicrohttpd writes itself before any
// handler runs (414/431 for an oversize request line or headers) are out of
// reach and not asserted here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, rawGet, rawRequest } from './server.mjs';

let server;
let restricted;

before(async () => {
  server = await startServer();
  restricted = await startServer({ args: ['--cors-origins', 'https://a.example'] });
});

after(async () => {
  await server?.stop();
  await restricted?.stop();
});

const targets = [
  ['/healthz', 200],
  ['/metrics', 200],
  ['/api/nearest?lat=48.85&lon=2.35&k=5', 200],
  ['/api/nearest?lat=91&lon=2', 400],
  ['/api/nearest?lat=48&lat=49&lon=2', 400],
  ['/api/conditions?q=mucoviscidose', 200],
  ['/api/structures?bbox=2.2,48.8,2.5,48.9', 200],
  ['/api/structures/no-such-site-synthetic', 404],
  ['/api/places?q=Cr%C3%A9teil', 200],
  ['/tiles.json', 200],
  ['/tiles/sites.json', 200],
  ['/tiles/sites/0/0/0.mvt', 200],
  ['/tiles/etablissements/0/0/0.mvt', 204],
  ['/tiles/sites/99/0/0.mvt', 400],
  ['/tiles/nothing/0/0/0.mvt', 404],
  ['/', 200],
  ['/embed', 200],
  ['/no/such/path', 404],
  ['/%2e%2e/etc/passwd', 400],
];

function assertSecurityHeaders(answer, what) {
  assert.equal(answer.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(answer.headers['referrer-policy'], 'no-referrer', what);
}

test('every route, GET and HEAD, plain and gzip: nosniff and Referrer-Policy', async () => {
  for (const base of [server, restricted]) {
    for (const [target, status] of targets) {
      for (const method of ['GET', 'HEAD']) {
        for (const extra of ['', 'Accept-Encoding: gzip\r\nOrigin: https://a.example\r\n']) {
          const answer = await rawGet(base.url, target, method, extra);
          const what = `${method} ${target} ${extra ? 'gzip' : 'plain'}`;
          assert.equal(answer.status, status, what);
          assertSecurityHeaders(answer, what);
          const page = target === '/' || target === '/embed';
          assert.equal(answer.headers['content-security-policy'] !== undefined, page, what);
        }
      }
    }
  }
});

test('static files (the page\'s scripts and styles) carry them', async () => {
  const page = await rawGet(server.url, '/');
  const assets = [...page.body.toString().matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  assert.ok(assets.length > 0, 'the page names its scripts and styles');
  for (const asset of assets.slice(0, 10)) {
    const target = asset.startsWith('/') ? asset : `/${asset}`;
    const answer = await rawGet(server.url, target);
    assert.equal(answer.status, 200, target);
    assertSecurityHeaders(answer, target);
  }
});

test('304, 405 and OPTIONS preflight carry them', async () => {
  const target = '/api/nearest?lat=48.85&lon=2.35&k=5';
  const first = await rawGet(server.url, target);
  const etag = first.headers.etag;
  assert.ok(etag, 'an ETag to revalidate');
  const revalidated = await rawGet(server.url, target, 'GET', `If-None-Match: ${etag}\r\n`);
  assert.equal(revalidated.status, 304);
  assertSecurityHeaders(revalidated, '304');
  const { host } = new URL(server.url);
  const posted = await rawRequest(server.url,
    `POST /api/nearest HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  assert.equal(posted.status, 405);
  assertSecurityHeaders(posted, '405');
  const preflight = await rawGet(server.url, target, 'OPTIONS',
    'Origin: https://a.example\r\nAccess-Control-Request-Method: GET\r\n');
  assert.equal(preflight.status, 204);
  assertSecurityHeaders(preflight, 'OPTIONS');
});

// Streams a GET body of `declared` bytes until the server stops reading;
// resolves with the bytes written and whatever answer arrived.
function streamBody(url, declared) {
  const { hostname, port, host } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const received = [];
    let sent = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      resolve({ sent, status: Number(text.split(' ')[1]) || null, text });
    };
    const pump = () => {
      while (!done && sent < declared) {
        sent += chunk.length;
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${declared}\r\n\r\n`);
      pump();
    });
    socket.on('data', (data) => received.push(data));
    socket.on('error', finish);
    socket.on('close', finish);
    setTimeout(finish, 20000);
  });
}

test('a GET body: a small one is dropped, a large one is not read (413, connection closed)', async () => {
  const { host } = new URL(server.url);
  const small = await rawRequest(server.url,
    `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n${'x'.repeat(100)}`);
  assert.equal(small.status, 200);
  assertSecurityHeaders(small, 'GET with a small body');
  const declared = 256 * 1024 * 1024;
  const large = await streamBody(server.url, declared);
  assert.ok(large.sent < 32 * 1024 * 1024, `the server read ${large.sent} bytes of the body`);
  if (large.status !== null) {
    assert.equal(large.status, 413);
    assert.match(large.text, /\r\nreferrer-policy: no-referrer\r\n/i);
  }
});
