// Vector tiles read by a real decoder (@mapbox/vector-tile + pbf from npm):
// every layer at several zooms (dense Paris, Martinique, an empty ocean
// tile), geometry within one tile unit of the source point projected here
// independently, types and attributes, cluster counts and filters against
// /api/structures, TileJSON, sizes, the places labels, and the 400/404 answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { startServer } from './server.mjs';

const LAYERS = ['sites', 'network', 'areas', 'basemap', 'etablissements', 'places'];
const MAX_LATITUDE = 85.0511287798066;
let server;

// Web Mercator (spherical, EPSG:3857) in world units [0, 1], y down.
function world(lon, lat) {
  const clamped = Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));
  const sine = Math.sin((clamped * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + sine) / (1 - sine)) / (4 * Math.PI)];
}
function tileOf(lon, lat, z) {
  const [x, y] = world(lon, lat);
  return { z, x: Math.floor(x * 2 ** z), y: Math.floor(y * 2 ** z) };
}
function tileCoordinates(lon, lat, { z, x, y }, extent = 4096) {
  const [wx, wy] = world(lon, lat);
  return [(wx * 2 ** z - x) * extent, (wy * 2 ** z - y) * extent];
}
function tileBbox({ z, x, y }) {
  const lon = (column) => (column / 2 ** z) * 360 - 180;
  const lat = (row) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / 2 ** z))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)];
}

async function getTile(layer, tile, query = '') {
  const response = await fetch(`${server.url}/tiles/${layer}/${tile.z}/${tile.x}/${tile.y}.mvt${query}`);
  assert.ok([200, 204].includes(response.status), `${layer} ${JSON.stringify(tile)}: ${response.status}`);
  assert.equal(response.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status === 204) assert.equal(bytes.length, 0, '204 has no body');
  else assert.ok(bytes.length > 0, '200 has a body');
  const decoded = new VectorTile(new Pbf(bytes));
  return { status: response.status, bytes: bytes.length, layer: decoded.layers[layer], decoded };
}

function features(layer) {
  const list = [];
  for (let i = 0; layer && i < layer.length; i++) list.push(layer.feature(i));
  return list;
}

async function structures(bbox, query = '') {
  const response = await fetch(`${server.url}/api/structures?bbox=${bbox.join(',')}&limit=10000${query}`);
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.truncated, false);
  return body.features;
}

// Sites of `tile` (half-open, like the tiles) from /api/structures.
async function sitesInTile(tile, query = '') {
  const all = await structures(tileBbox(tile), query);
  return all.filter((feature) => {
    const [lon, lat] = feature.geometry.coordinates;
    const [tx, ty] = tileCoordinates(lon, lat, tile);
    return tx >= 0 && tx < 4096 && ty >= 0 && ty < 4096;
  });
}

// Sum of the sites a sites tile stands for (clusters and folded points).
function siteTotal(list) {
  return list.reduce((sum, f) => sum + (f.properties.cluster ? f.properties.point_count : f.properties.count), 0);
}

// The site_ids a sites tile shows; a dense cell (more than 8 sites) may be a
// cluster up to z 15, which only gives its count: then the ids of the other
// features plus one placeholder per clustered site.
function siteIdsOf(list) {
  const ids = [];
  for (const f of list) {
    if (f.properties.cluster) ids.push(...Array(f.properties.point_count).fill('~clustered'));
    else ids.push(...(f.properties.count > 1 ? f.properties.site_ids.split('|') : [f.properties.site_id]));
  }
  return ids.sort();
}

// Compares a tile's sites with the expected site_ids: exactly when nothing
// is clustered, else the unclustered ids must be expected ones and the
// totals must agree.
function assertSameSites(list, expectedIds, message) {
  const ids = siteIdsOf(list);
  const expected = [...expectedIds].sort();
  if (!ids.includes('~clustered')) {
    assert.deepEqual(ids, expected, message);
    return;
  }
  assert.equal(ids.length, expected.length, message);
  for (const id of ids.filter((id) => id !== '~clustered')) assert.ok(expected.includes(id), `${message}: ${id}`);
}

let everySite;     // /api/structures over the world
let paris;         // a dense position: the Henri-Mondor sites (several at one place)
let martinique;

before(async () => {
  server = await startServer();
  everySite = await structures([-180, -90, 180, 90]);
  assert.ok(everySite.length > 0);
  const byPosition = new Map();
  for (const feature of everySite) {
    const key = feature.geometry.coordinates.join(',');
    byPosition.set(key, (byPosition.get(key) || 0) + 1);
  }
  const [densest] = [...byPosition.entries()].sort((a, b) => b[1] - a[1]);
  paris = densest[0].split(',').map(Number);
  assert.ok(densest[1] >= 2, 'some sites share a position');
  martinique = [-61.07, 14.61];
});

after(async () => {
  if (server) await server.stop();
});

test('catalogue and TileJSON 3.0.0 for every layer', async () => {
  const catalogue = await (await fetch(`${server.url}/tiles.json`)).json();
  assert.deepEqual(catalogue.layers.map((layer) => layer.name), LAYERS);
  for (const name of LAYERS) {
    const response = await fetch(`${server.url}/tiles/${name}.json`);
    assert.equal(response.status, 200);
    const tilejson = await response.json();
    assert.equal(tilejson.tilejson, '3.0.0');
    assert.deepEqual(tilejson.tiles, [`/tiles/${name}/{z}/{x}/{y}.mvt`]);
    assert.equal(tilejson.vector_layers.length, 1);
    assert.equal(tilejson.vector_layers[0].id, name);
    assert.equal(typeof tilejson.vector_layers[0].fields, 'object');
    assert.ok(Number.isInteger(tilejson.minzoom) && Number.isInteger(tilejson.maxzoom));
    assert.ok(tilejson.minzoom <= tilejson.maxzoom && tilejson.maxzoom <= 16);
    assert.equal(tilejson.bounds.length, 4);
    assert.ok(tilejson.bounds[0] < tilejson.bounds[2] && tilejson.bounds[1] < tilejson.bounds[3]);
    for (const word of ['Orphanet', 'CC BY 4.0', 'Etalab', 'FINESS', 'IGN']) {
      assert.ok(tilejson.attribution.includes(word), `${name} attribution names ${word}`);
    }
  }
  const filtered = await (await fetch(`${server.url}/tiles/sites.json?orpha=ORPHA:96346&role=ccmr,crmr`)).json();
  assert.deepEqual(filtered.tiles, ['/tiles/sites/{z}/{x}/{y}.mvt?orpha=96346&role=crmr,ccmr']);
});

test('every layer decodes at several zooms with the right types and attributes', async () => {
  const probes = [
    tileOf(...paris, 5), tileOf(...paris, 10), tileOf(...paris, 14),
    tileOf(...martinique, 8), tileOf(...martinique, 12),
  ];
  const seen = Object.fromEntries(LAYERS.map((name) => [name, 0]));
  for (const name of LAYERS) {
    const tilejson = await (await fetch(`${server.url}/tiles/${name}.json`)).json();
    for (const tile of probes) {
      const { layer, decoded } = await getTile(name, tile);
      if (tile.z < tilejson.minzoom) {
        assert.equal(layer, undefined, `${name} is empty below its minzoom`);
        continue;
      }
      assert.deepEqual(Object.keys(decoded.layers), layer ? [name] : []);
      if (!layer) continue;
      assert.equal(layer.version, 2);
      assert.equal(layer.extent, 4096);
      for (const feature of features(layer)) {
        seen[name]++;
        for (const [key, value] of Object.entries(feature.properties)) {
          const type = tilejson.vector_layers[0].fields[key];
          assert.ok(type, `${name}: field ${key} is declared`);
          assert.equal(typeof value, type.toLowerCase(), `${name}.${key}`);
        }
        const rings = feature.loadGeometry();
        assert.ok(rings.length > 0);
        for (const ring of rings) {
          for (const point of ring) {
            assert.ok(point.x >= -64 && point.x <= 4160 && point.y >= -64 && point.y <= 4160,
              `${name} point inside the buffer: ${point.x},${point.y}`);
          }
        }
        if (name === 'sites' || name === 'etablissements') assert.equal(feature.type, 1);
        if (name === 'network') assert.equal(feature.type, 2);
        if (name === 'areas') {
          assert.equal(feature.type, 3);
          assert.ok(['departement', 'region'].includes(feature.properties.level));
          assert.ok(Number.isInteger(feature.properties.population) && feature.properties.population > 0);
        }
        if (name === 'basemap') {
          assert.equal(feature.type, feature.properties.kind === 'land' ? 3 : 2);
          assert.ok(['land', 'coastline', 'boundary'].includes(feature.properties.kind));
        }
        if (feature.type === 3) {
          // Exterior rings first, positive area in tile coordinates (y down).
          assert.ok(signedArea(rings[0]) > 0, `${name}: first ring is exterior`);
        }
      }
    }
  }
  for (const name of LAYERS) assert.ok(seen[name] > 0, `${name} has features in the probes`);
});

function signedArea(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += (ring[j].x * ring[i].y) - (ring[i].x * ring[j].y);
  }
  return sum / 2;
}

test('an empty ocean tile is 204 No Content in every layer', async () => {
  const ocean = tileOf(-30, 40, 8);
  for (const name of LAYERS) {
    const { status, layer } = await getTile(name, ocean);
    assert.equal(status, 204, name);
    assert.equal(layer, undefined);
  }
});

test('sites: positions within one tile unit, folded sites and their attributes', async () => {
  for (const z of [9, 12, 14, 16]) {
    for (const place of [paris, martinique]) {
      const tile = tileOf(...place, z);
      const { layer } = await getTile('sites', tile);
      const list = features(layer);
      const expected = await sitesInTile(tile);
      assertSameSites(list, expected.map((f) => f.properties.site_id), `z${z}`);
      const byId = new Map(expected.map((f) => [f.properties.site_id, f]));
      for (const feature of list.filter((f) => !f.properties.cluster)) {
        const source = byId.get(feature.properties.site_id);
        assert.ok(source, feature.properties.site_id);
        const [[point]] = feature.loadGeometry();
        const [x, y] = tileCoordinates(...source.geometry.coordinates, tile);
        assert.ok(Math.abs(point.x - x) <= 1 && Math.abs(point.y - y) <= 1,
          `z${z} ${feature.properties.site_id}: ${point.x},${point.y} vs ${x},${y}`);
        assert.equal(feature.properties.name, source.properties.name);
        assert.equal(feature.properties.role, source.properties.role);
        if (feature.properties.count > 1) {
          const ids = feature.properties.site_ids.split('|');
          assert.equal(ids.length, feature.properties.count);
          for (const id of ids) {
            assert.deepEqual(byId.get(id).geometry.coordinates, source.geometry.coordinates, 'same position');
          }
        }
      }
    }
  }
});

test('sites: cluster counts add up to the sites of the tile', async () => {
  let clusters = 0;
  for (const z of [0, 2, 4, 6, 8, 9]) {
    for (const place of [paris, martinique]) {
      for (const query of ['', '&role=platform_member,crmr', '&orpha=96346']) {
        const tile = tileOf(...place, z);
        const { layer } = await getTile('sites', tile, query.replace('&', '?'));
        const list = features(layer);
        clusters += list.filter((f) => f.properties.cluster).length;
        for (const f of list.filter((f) => f.properties.cluster)) {
          assert.ok(z < 16 && f.properties.point_count >= 2);
          assert.ok(f.properties.expansion_zoom > z && f.properties.expansion_zoom <= 16);
          assert.equal(f.properties.west, undefined, 'clusters carry no bounds');
        }
        const expected = await sitesInTile(tile, query);
        assert.equal(siteTotal(list), expected.length, `z${z} ${query}`);
      }
    }
  }
  assert.ok(clusters > 0, 'some clusters at low zoom');
});

test('sites: filters give the same sites as /api/structures for the same box', async () => {
  const queries = ['&role=crmr', '&role=platform_member,platform_coordinator', '&orpha=96346',
    '&orpha=ORPHA:399', '&public=enfants', '&orpha=275752&role=crmr'];
  for (const query of queries) {
    for (const tile of [tileOf(...paris, 10), tileOf(...paris, 12), tileOf(...martinique, 10)]) {
      const { layer } = await getTile('sites', tile, query.replace('&', '?'));
      const expected = await sitesInTile(tile, query);
      assertSameSites(features(layer), expected.map((f) => f.properties.site_id),
        `${query} ${JSON.stringify(tile)}`);
    }
  }
  const bad = await fetch(`${server.url}/tiles/sites/0/0/0.mvt?orpha=99999999`);
  assert.equal(bad.status, 400);
  const badRole = await fetch(`${server.url}/tiles/sites/0/0/0.mvt?role=nobody`);
  assert.equal(badRole.status, 400);
});

test('network: link ends within one tile unit of their sites', async () => {
  const byId = new Map(everySite.map((f) => [f.properties.site_id, f.geometry.coordinates]));
  let checked = 0;
  for (const z of [6, 9, 11]) {
    const tile = tileOf(...paris, z);
    const { layer } = await getTile('network', tile);
    for (const feature of features(layer)) {
      assert.ok(['coordinator', 'cooperation'].includes(feature.properties.kind));
      const [line] = feature.loadGeometry();
      assert.equal(line.length, 2);
      for (const [end, id] of [[line[0], feature.properties.from], [line[1], feature.properties.to]]) {
        const [x, y] = tileCoordinates(...byId.get(id), tile);
        if (x < -64 || x > 4160 || y < -64 || y > 4160) continue; // clipped end
        assert.ok(Math.abs(end.x - x) <= 1 && Math.abs(end.y - y) <= 1, `${id}: ${end.x},${end.y} vs ${x},${y}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 0);
});

test('areas and basemap: Paris and Martinique, populations from geodata', async () => {
  const geojson = fs.readFileSync(path.resolve('geodata/departements.geojson'), 'utf8');
  const population = new Map();
  for (const line of geojson.split('\n')) {
    const match = /"code":"([0-9AB]+)","nom":"[^"]*","population":(\d+)/.exec(line);
    if (match) population.set(match[1], Number(match[2]));
  }
  const { layer } = await getTile('areas', tileOf(2.35, 48.85, 10));
  const paris75 = features(layer).find((f) => f.properties.code === '75' && f.properties.level === 'departement');
  assert.ok(paris75, 'Paris is in its tile');
  assert.equal(paris75.properties.population, population.get('75'));
  assert.equal(paris75.properties.region, '11');
  const overseas = await getTile('areas', tileOf(-61.0, 14.65, 9));
  assert.ok(features(overseas.layer).some((f) => f.properties.code === '972'), 'Martinique');
  const basemap = await getTile('basemap', tileOf(-61.0, 14.65, 9));
  const kinds = new Set(features(basemap.layer).map((f) => f.properties.kind));
  assert.ok(kinds.has('land') && kinds.has('coastline'), [...kinds].join());
  const mainland = await getTile('basemap', tileOf(2.35, 46.5, 6));
  const levels = new Set(features(mainland.layer).filter((f) => f.properties.kind === 'boundary').map((f) => f.properties.level));
  assert.deepEqual([...levels].sort(), ['departement', 'region']);
});

test('etablissements: FINESS positions within one tile unit', async () => {
  const lines = fs.readFileSync(path.resolve('geodata/finess-etablissements.csv'), 'utf8').split('\n');
  const header = lines[0].split(',');
  const finessColumn = header.indexOf('finess');
  const positions = new Map();
  for (const line of lines.slice(1)) {
    if (!line || line.includes('"')) continue; // quoted rows: not needed here
    const fields = line.split(',');
    positions.set(fields[finessColumn], [Number(fields[header.indexOf('lon')]), Number(fields[header.indexOf('lat')])]);
  }
  let checked = 0;
  for (const tile of [tileOf(2.35, 48.85, 12), tileOf(-61.07, 14.61, 10)]) {
    const { layer } = await getTile('etablissements', tile);
    for (const feature of features(layer)) {
      assert.match(feature.properties.finess, /^[0-9AB]{9}$/);
      const source = positions.get(feature.properties.finess);
      if (!source) continue;
      const [[point]] = feature.loadGeometry();
      const [x, y] = tileCoordinates(...source, tile);
      assert.ok(Math.abs(point.x - x) <= 1 && Math.abs(point.y - y) <= 1, feature.properties.finess);
      checked++;
    }
  }
  assert.ok(checked > 10, `checked ${checked}`);
  // Necker-Enfants malades is a care-network site (network-seeds.csv): flagged.
  const necker = await getTile('etablissements', tileOf(2.3155, 48.8459, 14));
  const flagged = features(necker.layer).filter((f) => f.properties.in_network);
  assert.ok(flagged.some((f) => f.properties.finess === '750100208'), 'Necker in_network');
  assert.ok(features(necker.layer).some((f) => !f.properties.in_network), 'others are not');
});

test('places: z6 over Paris labels Paris first, as an MVT with the agreed fields', async () => {
  const catalogue = await (await fetch(`${server.url}/tiles.json`)).json();
  const entry = catalogue.layers.find((layer) => layer.name === 'places');
  assert.ok(entry, '/tiles.json lists places');
  assert.deepEqual(Object.keys(entry.vector_layers[0].fields).sort(), ['code', 'kind', 'name', 'population', 'rank']);
  assert.equal(entry.minzoom, 5);
  assert.equal(entry.maxzoom, 14);
  const response = await fetch(`${server.url}/tiles/places/6/32/22.mvt`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
  const bytes = new Uint8Array(await response.arrayBuffer());
  assert.ok(bytes.length > 0 && bytes.length < 50 * 1024, `${bytes.length} bytes`);
  const list = features(new VectorTile(new Pbf(bytes)).layers.places);
  assert.ok(list.length > 10, `${list.length} places`);
  assert.deepEqual(list[0].properties, { name: 'Paris', code: '75056', population: list[0].properties.population, rank: 0, kind: 'commune' });
  assert.ok(list[0].properties.population > 2000000);
  const ranks = list.map((f) => f.properties.rank);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'features in rank order');
  const [paris] = list;
  const [x, y] = tileCoordinates(2.3428, 48.85661, { z: 6, x: 32, y: 22 });
  const [point] = paris.loadGeometry()[0];
  assert.ok(Math.abs(point.x - x) <= 1 && Math.abs(point.y - y) <= 1, `Paris at ${point.x},${point.y}, expected ${x},${y}`);
  const etag = response.headers.get('etag');
  assert.ok(etag, 'an ETag');
  const again = await fetch(`${server.url}/tiles/places/6/32/22.mvt`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
});

test('z0 and z14 Paris tiles are under 500 KB in every layer', async () => {
  for (const name of LAYERS) {
    for (const tile of [{ z: 0, x: 0, y: 0 }, tileOf(2.35, 48.85, 14)]) {
      const { bytes } = await getTile(name, tile);
      assert.ok(bytes < 500 * 1024, `${name} ${tile.z}: ${bytes} bytes`);
    }
  }
});

test('bad tile addresses are 400 problems, unknown layers 404', async () => {
  const cases = [
    ['/tiles/sites/30/0/0.mvt', 400], ['/tiles/sites/17/0/0.mvt', 400], ['/tiles/areas/15/0/0.mvt', 400],
    ['/tiles/sites/2/4/0.mvt', 400], ['/tiles/sites/2/0/4.mvt', 400], ['/tiles/sites/-1/0/0.mvt', 400],
    ['/tiles/sites/2/-1/0.mvt', 400], ['/tiles/sites/abc/0/0.mvt', 400], ['/tiles/sites/1/0/x.mvt', 400],
    ['/tiles/sites/1.5/0/0.mvt', 400], ['/tiles/sites/99999999999/0/0.mvt', 400],
    ['/tiles/places/15/0/0.mvt', 400], ['/tiles/places/6/64/0.mvt', 400],
    ['/tiles/nowhere/0/0/0.mvt', 404], ['/tiles/nowhere.json', 404],
  ];
  for (const [url, status] of cases) {
    const response = await fetch(`${server.url}${url}`);
    assert.equal(response.status, status, url);
    assert.equal(response.headers.get('content-type'), 'application/problem+json', url);
    const problem = await response.json();
    assert.equal(problem.status, status);
  }
});
