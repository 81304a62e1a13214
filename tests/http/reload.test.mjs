// Hot reload under load: while 4 client loops query /api/nearest and
// /healthz, the database file is replaced twice (copy + rename, then
// SIGHUP). No request fails, /healthz reports each new version, every
// answer comes from one dataset that existed (its ETag names the dataset),
// and no loop sees an older dataset after a newer one. A broken file then
// fails to reload and the last good dataset keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, database } from './server.mjs';

const loops = 4;
const loopBudgetMs = 3500;      // the loops run about this long around the two reloads,
const loopHardLimitMs = 120000; // and never longer than this (slow sanitizer reloads)
const loopMaxRequests = 200000; // nor for more requests than this each
const reloadTimeoutMs = 60000;  // the sanitizer build loads slowly

// The dataset part of our ETags: FNV-1a 64 of the version, low 32 bits.
function datasetTag(version) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(version)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (hash & 0xffffffffn).toString(16).padStart(8, '0');
}

// A copy of the database whose version says "synthetic" and `suffix`.
function variant(directory, suffix) {
  const file = path.join(directory, `variant-${suffix}.sqlite`);
  fs.copyFileSync(database, file);
  execFileSync('sqlite3', [file,
    `UPDATE metadata SET value = substr(value, 1, 40) || '-synthetic-${suffix}' WHERE key = 'version';`]);
  return file;
}

function swapIn(source, live) {
  const temporary = `${live}.tmp`;
  fs.copyFileSync(source, temporary);
  fs.renameSync(temporary, live);
}

async function healthVersion(url) {
  const answer = await fetch(`${url}/healthz`);
  return (await answer.json()).dataset;
}

async function waitForVersion(url, version) {
  const deadline = Date.now() + reloadTimeoutMs;
  while (Date.now() < deadline) {
    if ((await healthVersion(url)) === version) return;
    await sleep(20);
  }
  throw new Error(`/healthz never reported ${version}`);
}

const points = [[48.85, 2.35], [45.76, 4.83], [43.6, 1.44], [47.22, -1.55], [50.63, 3.06],
  [43.3, 5.37], [44.84, -0.58], [48.58, 7.75], [-21.1, 55.5], [16.24, -61.53]];

test('SIGHUP reloads under load without a failed or mixed answer', async () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'maillage-reload-synthetic-'));
  const live = path.join(directory, 'live.sqlite');
  let server;
  try {
    fs.copyFileSync(database, live);
    const second = variant(directory, 'b');
    const third = variant(directory, 'c');
    server = await startServer({ db: live });
    const versionA = server.version;
    const tags = new Map([[datasetTag(versionA), 0]]);
    const failures = [];
    const healthVersions = new Set();
    const bodiesByTag = new Map();
    const orderViolations = [];
    let stop = false;
    let requests = 0;

    async function clientLoop(index) {
      let newest = 0;
      const started = Date.now();
      for (let i = 0; !stop && i < loopMaxRequests && Date.now() - started < loopHardLimitMs; i++) {
        const [lat, lon] = points[(i + index) % points.length];
        const target = i % 3 === 2 ? '/healthz' : `/api/nearest?lat=${lat}&lon=${lon}&k=${1 + (i % 5)}`;
        try {
          const answer = await fetch(server.url + target);
          const body = await answer.text();
          requests++;
          if (answer.status !== 200) {
            failures.push(`${target}: ${answer.status} ${body.slice(0, 200)}`);
            continue;
          }
          let order;
          if (target === '/healthz') {
            const version = JSON.parse(body).dataset;
            healthVersions.add(version);
            order = tags.get(datasetTag(version));
          } else {
            const tag = answer.headers.get('etag');
            const datasetPart = /^"([0-9a-f]{8})-/.exec(tag)?.[1];
            order = tags.get(datasetPart);
            const key = `${target} ${tag}`;
            if (!bodiesByTag.has(key)) bodiesByTag.set(key, body);
            else if (bodiesByTag.get(key) !== body) failures.push(`${key}: two bodies for one ETag`);
          }
          if (order === undefined) failures.push(`${target}: answer from an unknown dataset`);
          else if (order < newest) orderViolations.push(`${target}: dataset ${order} after ${newest}`);
          else newest = order;
        } catch (error) {
          failures.push(`${target}: ${error.message}`);
        }
      }
    }

    const clients = Array.from({ length: loops }, (_, index) => clientLoop(index));
    const loopStart = Date.now();
    await sleep(loopBudgetMs / 4);
    // The tag of each version must be known before its first answer can arrive.
    const versionB = execFileSync('sqlite3', [second, "SELECT value FROM metadata WHERE key = 'version'"]).toString().trim();
    const versionC = execFileSync('sqlite3', [third, "SELECT value FROM metadata WHERE key = 'version'"]).toString().trim();
    tags.set(datasetTag(versionB), 1);
    tags.set(datasetTag(versionC), 2);
    swapIn(second, live);
    server.process.kill('SIGHUP');
    await waitForVersion(server.url, versionB);
    await sleep(loopBudgetMs / 4);
    swapIn(third, live);
    server.process.kill('SIGHUP');
    await waitForVersion(server.url, versionC);
    const remaining = loopBudgetMs - (Date.now() - loopStart);
    await sleep(Math.max(remaining, 300));
    stop = true;
    await Promise.all(clients);

    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failed requests of ${requests}`);
    assert.deepEqual(orderViolations.slice(0, 20), [], 'an older dataset answered after a newer one');
    assert.ok(requests > 100, `only ${requests} requests`);
    for (const version of healthVersions) assert.ok([versionA, versionB, versionC].includes(version), version);
    assert.ok(healthVersions.has(versionC));
    assert.equal(await healthVersion(server.url), versionC);

    // A broken file: the reload fails, the last good dataset keeps serving.
    fs.writeFileSync(`${live}.tmp`, 'not a database (synthetic)');
    fs.renameSync(`${live}.tmp`, live);
    server.process.kill('SIGHUP');
    const deadline = Date.now() + reloadTimeoutMs;
    while (!/reload of .* failed/.test(server.stderr) && Date.now() < deadline) await sleep(20);
    assert.match(server.stderr, /reload of .* failed, still serving/);
    assert.equal(await healthVersion(server.url), versionC);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^maillage_reloads_total 2$/m);
    assert.match(metrics, /^maillage_reload_failures_total 1$/m);
    assert.match(metrics, new RegExp(`^maillage_dataset_info\\{version="${versionC}"\\} 1$`, 'm'));
  } finally {
    try {
      await server?.stop();
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  }
});
