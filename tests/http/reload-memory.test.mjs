// Memory comes back after reloads, and reloads under load lose nothing.
//
// One server (2 threads) and the request mix of tools/soak.sh (`--list`:
// every route, gzip, If-None-Match), less the answers that take 0.1 s to
// seconds to compute cold (areas/basemap tiles below zoom 12, service
// areas), which every reload would recompute (`make soak` asks them all).
// Then:
//   1. warm-up: every request of the mix once, then a short load at
//      `concurrency` clients; at rest, resident memory is "warm" — this is
//      the fresh start with the warm-up (caches filled by that warm-up);
//   2. one reload at rest; at rest again, resident memory is "rest" — the
//      fresh start at rest after a reload (empty caches, threads and
//      libraries already used);
//   3. `reloads` reloads (SIGHUP, each waited for in the log) while the
//      clients keep asking the mix;
//   4. the same warm-up again: resident memory must be within 5% of "warm";
//      one more reload at rest: within 5% of "rest".
// Every answer of every phase must be a 2xx, 3xx or an expected 4xx (no
// 5xx), and no request may fail (reset, refused). "At rest" means the
// server used no CPU for 300 ms (read from /proc), so the last requests
// and the last reload have finished. Under SAN=1 the RSS assertions are
// skipped (ASan's allocator keeps freed memory in quarantine) and only 5
// reloads run; the rest runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, database } from './server.mjs';

const sanitizer = process.env.SAN === '1';
const reloads = sanitizer ? 5 : 20;
const concurrency = 16;
const warmLoadMs = 1500;
const tolerance = 0.05;
const reloadTimeoutMs = 60000;
const phaseLimitMs = 120000; // no phase runs longer, whatever the machine
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

// tools/soak.sh's mix: [{ target, headers }], without the slow cold answers.
function requestMix(url) {
  const text = execFileSync('bash', [path.join(root, 'tools/soak.sh'), '--list', url, database],
    { cwd: root, encoding: 'utf8' });
  const mix = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [target, ...headerLines] = line.split('\t');
    if (/^\/tiles\/(areas|basemap)\/([0-9]|1[01])\//.test(target) || /^\/api\/service-areas/.test(target)) continue;
    const headers = {};
    for (const header of headerLines) {
      const colon = header.indexOf(':');
      headers[header.slice(0, colon)] = header.slice(colon + 1).trim();
    }
    mix.push({ target, headers });
  }
  return mix;
}

function residentKb(pid) {
  return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

function cpuTicks(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// Waits until the server has used no CPU for 300 ms (at most phaseLimitMs).
async function atRest(pid) {
  const deadline = Date.now() + phaseLimitMs;
  let before = cpuTicks(pid);
  for (;;) {
    await sleep(300);
    const now = cpuTicks(pid);
    if (now === before || Date.now() > deadline) return;
    before = now;
  }
}

// Counts answers by status and failed requests; one keep-alive agent.
function makeClient(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map();
  const failures = [];
  let answered = 0;
  function ask({ target, headers }) {
    return new Promise((resolve) => {
      const request = http.get(url + target, { agent, headers }, (response) => {
        response.on('data', () => {});
        response.on('end', () => {
          statuses.set(response.statusCode, (statuses.get(response.statusCode) || 0) + 1);
          if (response.statusCode >= 500) failures.push(`${target}: ${response.statusCode}`);
          answered++;
          resolve();
        });
        response.on('error', (error) => { failures.push(`${target}: ${error.message}`); resolve(); });
      });
      request.on('error', (error) => { failures.push(`${target}: ${error.message}`); resolve(); });
      request.setTimeout(phaseLimitMs, () => request.destroy(new Error('no answer in time')));
    });
  }
  // `concurrency` loops over the mix until stop() says so (each starts elsewhere).
  async function load(mix, stop) {
    const deadline = Date.now() + phaseLimitMs;
    await Promise.all(Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = loop * 7; !stop() && Date.now() < deadline; i++) await ask(mix[i % mix.length]);
    }));
  }
  // Every request once, `concurrency` at a time.
  async function once(mix) {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < mix.length) await ask(mix[next++]);
    }));
  }
  return { load, once, statuses, failures, get answered() { return answered; }, close: () => agent.destroy() };
}

// Measures with `measure()` until the figure is within the tolerance of
// `reference`, at most 3 times: on a shared machine one figure can catch
// buffers of answers still in flight or pages not yet given back, which the
// next measure (after the same warm-up or rest) does not; memory that
// really stayed fails all three.
async function withinTolerance(label, measure, reference) {
  let text = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const measured = await measure();
    const change = (measured - reference) / reference;
    text = `${label}: ${(measured / 1024).toFixed(1)} MB vs ${(reference / 1024).toFixed(1)} MB (${(change * 100).toFixed(1)}%, measure ${attempt})`;
    console.log(`# ${text}`);
    if (sanitizer || Math.abs(change) <= tolerance) return;
  }
  assert.fail(`${text}, beyond ${tolerance * 100}% three times`);
}

test(`${reloads} reloads under load: no 5xx, no failed request, memory back within 5%`, async () => {
  const server = await startServer();
  const pid = server.process.pid;
  const client = makeClient(server.url);
  let reloadsDone = 0;
  async function reload() {
    reloadsDone++;
    server.process.kill('SIGHUP');
    const deadline = Date.now() + reloadTimeoutMs;
    while ((server.stderr.match(/^maillage: reloaded /gm) || []).length < reloadsDone) {
      assert.doesNotMatch(server.stderr, /reload of .* failed/);
      assert.ok(Date.now() < deadline, `reload ${reloadsDone} not done in ${reloadTimeoutMs} ms`);
      await sleep(10);
    }
  }
  async function warmUp(mix) {
    await client.once(mix);
    const until = Date.now() + warmLoadMs;
    await client.load(mix, () => Date.now() > until);
    await atRest(pid);
    return residentKb(pid);
  }
  const began = Date.now();
  const phase = (name) => console.log(`# ${name} at ${((Date.now() - began) / 1000).toFixed(1)} s`);
  try {
    const mix = requestMix(server.url);
    phase('mix');
    assert.ok(mix.length > 300, `the mix has ${mix.length} requests`);
    const start = residentKb(pid);
    const warm = await warmUp(mix);
    phase('warm-up');
    await reload();
    await atRest(pid);
    const rest = residentKb(pid);
    console.log(`# start ${(start / 1024).toFixed(1)} MB, warm ${(warm / 1024).toFixed(1)} MB, at rest after a reload ${(rest / 1024).toFixed(1)} MB`);

    let loading = true;
    const answeredBefore = client.answered;
    const load = client.load(mix, () => !loading);
    try {
      for (let i = 0; i < reloads; i++) await reload();
    } finally {
      loading = false;
      await load;
    }
    phase('reloads');
    const underLoad = client.answered - answeredBefore;
    assert.ok(underLoad > reloads * 10, `only ${underLoad} answers during the reloads`);

    await withinTolerance(`after ${reloads} reloads and the warm-up`, () => warmUp(mix), warm);
    await reload();
    await withinTolerance(`at rest after one more reload`, async () => {
      await atRest(pid);
      return residentKb(pid);
    }, rest);
    if (sanitizer) console.log('# SAN=1: resident memory not asserted (ASan keeps freed memory in quarantine)');

    assert.deepEqual(client.failures.slice(0, 20), [], `${client.failures.length} failed of ${client.answered}`);
    const fives = [...client.statuses].filter(([status]) => status >= 500);
    assert.deepEqual(fives, [], 'no 5xx');
    assert.ok(client.statuses.get(304) > 0 && client.statuses.get(200) > 0, 'some 200 and 304 answers');
    console.log(`# ${client.answered} answers: ${JSON.stringify(Object.fromEntries(client.statuses))}`);
  } finally {
    client.close();
    await server.stop();
  }
});
