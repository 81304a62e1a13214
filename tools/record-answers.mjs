#!/usr/bin/env node
// record-answers: proves that a refactor changes no answer of `maillage serve`.
//
// It starts a server, sends it a fixed list of a few thousand HTTP requests
// (every route, good and bad parameters, gzip, If-None-Match, HEAD, OPTIONS,
// other methods, malformed targets), one at a time, and records every answer
// byte for byte. Record once with the binary from before the refactor, then
// compare the binary from after it against that recording:
//
//   node tools/record-answers.mjs record  --binary PATH --db PATH --web DIR --out FILE
//   node tools/record-answers.mjs compare --binary PATH --db PATH --web DIR --against FILE
//
// record writes FILE (JSON lines, one answer per request) and prints how many
// requests each route got. compare sends the same list again, prints every
// difference (request, field, before/after, first differing byte of a body)
// and exits 1 if there is any, else prints "N requests, 0 differences" and
// exits 0. Exit 2: bad usage, or the server could not start or stop cleanly.
//
// Use the same --db and --web for both runs: API ETags hash the dataset
// version, static-file ETags the file's device, inode, size and mtime.
//
// What is recorded per request: method, target, the request headers sent,
// status, every response header but Date (names lower-cased, sorted), and
// the body (base64, or sha256 + length above 64 KB). /metrics keeps only its
// status and Content-Type: its counters change with every request.
//
// The request list is generated from the fixed inputs below with a seeded
// PRNG (one seed per section, so extending one section does not shift the
// others); it never reads the clock, Math.random or the data files. The only
// values computed at run time are If-None-Match headers, taken from the ETag
// of the previous answer to the same target in the same run.
//
// Every request goes over its own raw TCP connection (node:net) with
// "Connection: close": the tool sends exactly the bytes listed (fetch would
// normalise dot segments and escapes, add headers, and decode gzip) and
// records exactly the bytes received.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';

const BODY_INLINE_MAX = 64 * 1024;          // larger bodies are stored as sha256 + length
const REQUEST_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 120_000;
const READY_LINE = /^maillage: serving (\S+) \((\d+) sites\) on (http:\/\/\S+) in /m;
const HOST_PLACEHOLDER = '{host}';          // the server's host:port, which changes every run

// ---------------------------------------------------------------------------
// Fixed inputs (taken from geodata/ once; copied here so the list never moves)

// ORPHAcodes listed by geodata/network-seeds.csv (orpha_codes column).
const SEED_CODES = ['68415', '3002', '98375', '1959', '275752', '634518', '95455', '399', '306715', '96346'];
// Descendants of those codes in geodata/orphanet-classification.csv (covered through their group).
const DESCENDANT_CODES = ['100090', '181405', '405', '53715', '228312', '90033', '232', '251355', '251359',
  '251365', '634461', '636', '637', '93921', '36426', '537', '306719', '306727', '369847', '117573', '557'];
// Their parent groups (known codes that no site lists: empty results with a message).
const ANCESTOR_CODES = ['97978', '71203', '182047', '466066', '68364', '140162', '293815', '276058', '494457',
  '183545'];
// Known but unrelated (5, 6) or inactive (34, 77) codes; unknown or malformed ones.
const OTHER_CODES = ['5', '6', '34', '77'];
const BAD_CODES = ['99999999', '0', '-1', 'abc', 'ORPHA:', '232abc', '1e3', ' 232', '2%2032'];

const SITE_IDS = ['BICETRE-CAP', 'BICHAT-CAI', 'BRETONNEAU-CAI', 'BRETONNEAU-CAP', 'CHIC-ESMARA', 'CHIV-ESMARA',
  'CHSF-ESMARA', 'FONTAINEBLEAU-COOP', 'FORT-DE-FRANCE-ESMARA', 'GHEF-MEAUX-ESMARA', 'GHEF-MLV-ESMARA',
  'MELUN-COOP', 'MELUN-ESMARA', 'MONDOR-DREPANO', 'MONDOR-ESMARA', 'MONDOR-HUNTINGTON', 'MONDOR-NF',
  'MONDOR-TOXIBUL', 'NECKER-MAREP', 'NECKER-PLATFORM', 'ORSAY-ESMARA', 'PROVINS-COOP', 'SAINT-MAURICE-ESMARA'];

const ROLES = ['crmr_coordonnateur', 'crmr_constitutif', 'crmr', 'ccmr', 'cooperation', 'platform_member',
  'platform_coordinator', 'medico_social', 'association'];
const PUBLICS = ['enfants', 'adultes', 'tous'];

// Areas for random points: [name, west, south, east, north].
const AREAS = [
  ['metropole', -4.8, 42.3, 8.2, 51.0],
  ['ile-de-france', 1.5, 48.1, 3.6, 49.2],
  ['corse', 8.5, 41.4, 9.6, 43.0],
  ['guadeloupe', -61.8, 15.8, -61.0, 16.5],
  ['martinique', -61.25, 14.38, -60.8, 14.9],
  ['guyane', -54.6, 2.1, -51.6, 5.8],
  ['reunion', 55.2, -21.4, 55.85, -20.85],
  ['mayotte', 45.0, -13.0, 45.3, -12.6],
];

// Places the tiles are requested around: [name, lon, lat].
const TILE_PLACES = [
  ['Paris', 2.3488, 48.8534], ['Créteil (Mondor)', 2.45404, 48.7988], ['Lyon', 4.8357, 45.764],
  ['Marseille', 5.3698, 43.2965], ['Provins', 3.29982, 48.54708], ['Fort-de-France', -61.06661, 14.60944],
  ['Pointe-à-Pitre', -61.5364, 16.2371], ['Cayenne', -52.3264, 4.9196], ['Saint-Denis (Réunion)', 55.447, -20.9331],
  ['Mamoudzou', 45.1948, -12.7902], ['Ajaccio', 8.7369, 41.9192], ['Atlantic ocean', -30.0, 40.0],
];
const LAYERS = [ // [name, minzoom, maxzoom]
  ['sites', 0, 16], ['network', 0, 14], ['areas', 0, 14], ['basemap', 0, 14], ['etablissements', 8, 16],
];

// Exact site positions (FINESS), for ties between sites at one position.
const SITE_POSITIONS = [['48.7988', '2.45404'], ['48.84626', '2.3151'], ['48.54708', '3.29982'],
  ['14.60944', '-61.06661'], ['48.8901', '2.33123'], ['48.69885', '2.18725'], ['48.80994', '2.35795']];

const CONDITION_QUERIES = ['drépano', 'drepano', 'DRÉPANOCYTOSE', 'Drépanocytose', 'drépanocytose et maladies',
  'thalassémie', 'thalassemie', 'neurofibromatose', 'Neurofibromatose/schwannomatose', 'schwannomatose',
  'huntington', 'Maladie de Huntington', 'chorée', 'choree', 'Evans', 'syndrome d\'Evans', 'anémie hémolytique',
  'anemie', 'thrombopénie immune', 'PTI', 'Stevens-Johnson', 'nécrolyse', 'Lyell', 'malformation anorectale',
  'anorectale', 'hypoparathyroïdie', 'parathyroïde', 'phosphore', 'rachitisme', 'LCHAD', 'déficit', 'maladie',
  'syndrome', 'rare', 'œdème', 'cœur', 'Ehlers-Danlos', 'mucoviscidose', 'X fragile', 'ß', 'ÿ', 'é', 'a', 'ab',
  'ORPHA:232', 'ORPHA:275752', 'orpha:96346', 'ORPHA: 232', 'Orpha:399', '232', '275752', '399', '99999999',
  'ORPHA:99999999', '0', '  drépano  ', 'drépano%', 'xyzzyqwv', '@@@', '"', '<script>', '\\', 'a'.repeat(300)];
const ENGLISH_QUERIES = ['sickle cell', 'Sickle cell disease', 'huntington disease', 'neurofibromatosis',
  'thalassemia', 'Evans syndrome', 'anorectal malformation', 'LCHAD deficiency', 'toxic epidermal necrolysis',
  'immune thrombocytopenia', 'chorea', 'ORPHA:232', 'drépano', 'rare disease'];
const BAD_UTF8_ESCAPES = ['%FF', '%C3', '%C3%28', '%E2%82', '%ED%A0%80', '%F4%90%80%80', '%C0%AF', '%80', 'dr%E9pano',
  '%00', 'a%00b', '%G1', '%4', '%'];

const PLACE_QUERIES = ['Provins', 'provins', 'PROVINS', 'Créteil', 'Creteil', 'créteil', 'Paris', 'Lyon', 'Marseille',
  'Saint-Denis', 'saint denis', 'Saint-Pierre', 'Fort-de-France', 'Cayenne', 'Mamoudzou', 'Basse-Terre',
  'Pointe-à-Pitre', 'Ajaccio', 'Bastia', 'Strasbourg', 'Brest', 'Melun', 'Meaux', 'Fontainebleau', 'Orsay',
  'Le Kremlin-Bicêtre', 'kremlin', "L'Abergement", 'Abergement', 'Saint-', 'sur-Mer', 'Pro', 'Cré', 'Ly', 'Y',
  'Œuilly', 'Éclaron', 'Ème', '94000', '77160', '75015', '75116', '13001', '69001', '97200', '97400', '97600',
  '971', '9', '94', '2A004', '20000', '00000', '99999', 'Londres', 'zzzz', '  Provins ', 'Saint Maurice'];

// ---------------------------------------------------------------------------
// Deterministic PRNG (mulberry32), one per section, seeded by the section name

function hashString(text) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

function prng(name) {
  let state = hashString(name);
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const rng = {
    int: (n) => next() % n,
    range: (low, high) => low + (next() % (high - low + 1)),
    chance: (percent) => next() % 100 < percent,
    pick: (list) => list[next() % list.length],
    // A decimal in [low, high] with `digits` decimals, as a string (integer arithmetic).
    decimal: (low, high, digits) => {
      const scale = 10 ** digits;
      return (rng.range(Math.round(low * scale), Math.round(high * scale)) / scale).toFixed(digits);
    },
    shuffle: (list) => {
      const copy = [...list];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = next() % (i + 1);
        [copy[i], copy[j]] = [copy[j], copy[i]];
      }
      return copy;
    },
    sample: (list, count) => rng.shuffle(list).slice(0, count),
  };
  return rng;
}

// ---------------------------------------------------------------------------
// Building requests

// A request: route (for the counts), method, target (bytes as a latin1 string),
// extra headers ([name, value] pairs), optional body, optional revalidate form.
function request(route, target, { method = 'GET', headers = [], body = null, revalidate = null } = {}) {
  return { route, method, target, headers, body, revalidate };
}

// Percent-encodes a value as a browser would, but keeps , : | readable.
function encode(value) {
  return encodeURIComponent(value).replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%7C/g, '|');
}

function query(pairs) {
  return pairs.map(([name, value]) => (value === null ? name : `${name}=${encode(value)}`)).join('&');
}

// A UTF-8 string as the latin1 string of its bytes (to send raw, unescaped UTF-8).
function utf8Bytes(text) {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function randomPoint(rng) {
  const [, west, south, east, north] = rng.chance(70) ? AREAS[rng.int(3)] : rng.pick(AREAS);
  return { lat: rng.decimal(south, north, rng.pick([2, 4, 5])), lon: rng.decimal(west, east, rng.pick([2, 4, 5])) };
}

function orphaValue(rng) {
  const pool = rng.pick([SEED_CODES, SEED_CODES, DESCENDANT_CODES, DESCENDANT_CODES, ANCESTOR_CODES, OTHER_CODES]);
  const code = rng.pick(pool);
  return rng.chance(20) ? `ORPHA:${code}` : code;
}

function roleValue(rng) {
  return rng.sample(ROLES, rng.range(1, 3)).join(',');
}

// Optional filters shared by nearest, structures and tiles.
function siteFilters(rng, { orpha = 50, role = 25, pub = 20 } = {}) {
  const pairs = [];
  if (rng.chance(orpha)) pairs.push(['orpha', orphaValue(rng)]);
  if (rng.chance(role)) pairs.push(['role', roleValue(rng)]);
  if (rng.chance(pub)) pairs.push(['public', rng.pick(PUBLICS)]);
  return pairs;
}

function healthRequests() {
  return [
    request('healthz', '/healthz'),
    request('healthz', '/healthz?lang=en'),
    request('healthz', '/healthz?unknown=1'),
    request('healthz', '/healthz/'),
    request('metrics', '/metrics'),
    request('metrics', '/metrics?format=text'),
  ];
}

function nearestRequests() {
  const rng = prng('nearest');
  const list = [];
  for (let i = 0; i < 380; i++) {
    const point = randomPoint(rng);
    const pairs = [['lat', point.lat], ['lon', point.lon]];
    if (rng.chance(85)) pairs.push(['k', String(rng.range(1, 20))]);
    pairs.push(...siteFilters(rng, { orpha: 60 }));
    if (rng.chance(10)) pairs.push(['lang', rng.pick(['fr', 'en'])]);
    list.push(request('nearest', `/api/nearest?${query(rng.chance(25) ? rng.shuffle(pairs) : pairs)}`));
  }
  for (const [lat, lon] of SITE_POSITIONS) { // ties at one position, broken by site_id
    for (const k of ['1', '3', '5', '20', '23', '100']) list.push(request('nearest', `/api/nearest?lat=${lat}&lon=${lon}&k=${k}`));
  }
  for (const code of [...SEED_CODES, ...DESCENDANT_CODES.slice(0, 8), ...ANCESTOR_CODES.slice(0, 4), ...OTHER_CODES]) {
    list.push(request('nearest', `/api/nearest?lat=48.56&lon=3.30&orpha=${code}&k=${rng.range(1, 20)}`));
  }
  for (const role of ROLES) list.push(request('nearest', `/api/nearest?lat=48.85&lon=2.35&role=${role}&k=20`));
  for (const pub of [...PUBLICS, 'x', '', 'Enfants']) list.push(request('nearest', `/api/nearest?lat=48.85&lon=2.35&public=${pub}`));
  for (const extreme of ['lat=90&lon=180', 'lat=-90&lon=-180', 'lat=0&lon=0', 'lat=-0&lon=-0', 'lat=48.85&lon=2.35&k=1',
    'lat=48.850000000000001&lon=2.35', 'lat=+48.85&lon=2.35', 'lat=4.885e1&lon=2.35', 'lat=48.&lon=2.35',
    'lat=.5&lon=2.35', 'lat=%2048.85&lon=2.35', 'lat=48.85&lon=2.35&k=05', 'lat=48.85&lon=2.35&k=+5',
    'lat=48.85&lon=2.35&filler=' + 'a'.repeat(8 * 1024)]) {
    list.push(request('nearest', `/api/nearest?${extreme}`));
  }
  for (const bad of [...BAD_CODES.map((code) => `lat=48&lon=2&orpha=${code}`), 'lat=NaN&lon=2', 'lat=nan&lon=2',
    'lat=inf&lon=2', 'lat=48&lon=-inf', 'lat=1e999&lon=2', 'lat=0x10&lon=2', 'lat=&lon=2', 'lat&lon=2',
    'lat=48&lat=49&lon=2', 'lat=48&lon=2&public=enfants&public=adultes', 'lat=48&lon=2&k=1&k=2', 'lon=2', 'lat=48',
    '', 'lat=48&lon=2&k=0', 'lat=48&lon=2&k=101', 'lat=48&lon=2&k=1000000000', 'lat=48&lon=2&k=abc',
    'lat=48&lon=2&k=2.5', 'lat=48&lon=2&k=', 'lat=48&lon=2&k=-1', 'lat=91&lon=2', 'lat=-90.5&lon=2',
    'lat=48&lon=-181', 'lat=48&lon=180.5', 'lat=48&lon=2&role=unknown', 'lat=48&lon=2&role=ccmr,unknown',
    'lat=48&lon=2&role=', 'lat=48&lon=2&role=,', 'lat=48&lon=2&role=CCMR', 'lat=%FF&lon=2', 'lat=4%008&lon=2',
    'lat=%G1&lon=2', 'lat=48&lon=2%4', 'lat=48,5&lon=2', 'lat=48 &lon=2', 'lat=48&lon=2&orpha=232&orpha=399']) {
    list.push(request('nearest', `/api/nearest${bad === '' ? '' : '?'}${bad}`));
  }
  return list;
}

function randomBox(rng) {
  const centre = randomPoint(rng);
  const half = rng.pick(['0.005', '0.05', '0.2', '1', '3', '8', '40']);
  const lat = Number(centre.lat);
  const lon = Number(centre.lon);
  const south = Math.max(-90, lat - Number(half)).toFixed(4);
  const north = Math.min(90, lat + Number(half)).toFixed(4);
  return `${(lon - Number(half)).toFixed(4)},${south},${(lon + Number(half)).toFixed(4)},${north}`;
}

function structuresRequests() {
  const rng = prng('structures');
  const list = [];
  for (let i = 0; i < 160; i++) {
    const pairs = [['bbox', randomBox(rng)], ...siteFilters(rng, { orpha: 35 })];
    if (rng.chance(15)) pairs.push(['limit', String(rng.pick([1, 2, 5, 10, 1000, 10000]))]);
    list.push(request('structures', `/api/structures?${query(pairs)}`));
  }
  const fixed = ['-180,-90,180,90', '2.2,48.8,2.5,48.9', '-5,41,10,52', '-62,14,-60,17', '55,-22,56,-20',
    '170,-50,-170,50', '179,-90,-179,90', '100,-90,-100,90', '45,-13,-61,17', '180,-90,-180,90', '0,0,0,0',
    '2.45404,48.7988,2.45404,48.7988', '-40,30,-35,35', '-150,-60,-140,-50', '2.3,48.8,2.3,48.9',
    '-180,-90,-180,90', '-5.0,41.0,10.0,52.0', '-5,41,10,52.000000001', ' -5,41,10,52', '-5, 41, 10, 52'];
  for (const bbox of fixed) list.push(request('structures', `/api/structures?bbox=${encode(bbox)}`));
  for (const limit of ['1', '2', '22', '23', '24', '10000']) list.push(request('structures', `/api/structures?bbox=-180,-90,180,90&limit=${limit}`));
  for (const code of [...SEED_CODES, ...DESCENDANT_CODES.slice(8, 14), ...ANCESTOR_CODES.slice(4, 7), '5']) {
    list.push(request('structures', `/api/structures?bbox=-180,-90,180,90&orpha=${code}`));
  }
  for (const role of ROLES) list.push(request('structures', `/api/structures?bbox=-180,-90,180,90&role=${role}`));
  for (const pub of PUBLICS) list.push(request('structures', `/api/structures?bbox=-180,-90,180,90&public=${pub}`));
  for (const bad of ['', 'bbox=', 'bbox=1,2,3', 'bbox=1,2,3,4,5', 'bbox=0,50,10,40', 'bbox=west,south,east,north',
    'bbox=0,-10,10,91', 'bbox=0,NaN,10,50', 'bbox=-181,0,10,10', 'bbox=0,0,181,10', 'bbox=1e999,0,10,10',
    'bbox=-5,41,10,52&limit=0', 'bbox=-5,41,10,52&limit=10001', 'bbox=-5,41,10,52&limit=x',
    'bbox=-5,41,10,52&orpha=99999999', 'bbox=-5,41,10,52&role=unknown', 'bbox=-5,41,10,52&public=x',
    'bbox=-5,41,10,52&bbox=-5,41,10,52', 'bbox=%FF', 'bbox=-5;41;10;52', 'bbox=,,,']) {
    list.push(request('structures', `/api/structures${bad === '' ? '' : '?'}${bad}`));
  }
  return list;
}

function structureRequests() {
  const list = SITE_IDS.map((id) => request('structure', `/api/structures/${id}`));
  for (const id of ['MONDOR-NF', 'NECKER-MAREP', 'FORT-DE-FRANCE-ESMARA']) {
    list.push(request('structure', `/api/structures/${id}?lang=en`));
    list.push(request('structure', `/api/structures/${id.toLowerCase()}`));
    list.push(request('structure', `/api/structures/${id}/`));
    list.push(request('structure', `/api/structures/${id}x`));
    list.push(request('structure', `/api/structures/${id.slice(0, -1)}`));
  }
  const encoded = ['MONDOR%2DNF', '%4D%4F%4E%44%4F%52-NF', 'mondor%2Dnf', 'MONDOR-NF%20', '%20MONDOR-NF',
    'MONDOR%2FNF', 'MONDOR-NF%00', '%FF', '%C3%A9', '%C3%89COLE',
    'no-such-site-synthetic', 'X', '', '.', 'a'.repeat(64), 'a'.repeat(65), 'MONDOR NF', 'MONDOR+NF',
    'MONDOR-NF?x=1', 'PROVINS-COOP%3Fx=1', '%zz', 'MONDOR-NF;x', 'ÉCOLE'];
  for (const id of encoded) list.push(request('structure', `/api/structures/${utf8Bytes(id)}`));
  return list;
}

function conditionsRequests() {
  const rng = prng('conditions');
  const list = [];
  for (const q of CONDITION_QUERIES) {
    list.push(request('conditions', `/api/conditions?q=${encode(q)}`));
    if (rng.chance(40)) list.push(request('conditions', `/api/conditions?q=${encode(q)}&limit=${rng.range(1, 100)}`));
    if (rng.chance(20)) list.push(request('conditions', `/api/conditions?lang=en&q=${encode(q)}`));
  }
  for (const q of ENGLISH_QUERIES) {
    list.push(request('conditions', `/api/conditions?q=${encode(q)}&lang=en`));
    list.push(request('conditions', `/api/conditions?q=${encode(q)}&lang=en&limit=${rng.range(1, 30)}`));
  }
  for (const code of [...SEED_CODES, ...DESCENDANT_CODES, ...ANCESTOR_CODES, ...OTHER_CODES]) {
    list.push(request('conditions', `/api/conditions?q=ORPHA:${code}`));
  }
  for (const escape of BAD_UTF8_ESCAPES) list.push(request('conditions', `/api/conditions?q=${escape}`));
  for (const q of ['drépano', 'thalassémie', 'Pointe-à-Pitre']) { // raw UTF-8 and + for spaces
    list.push(request('conditions', `/api/conditions?q=${utf8Bytes(q)}`));
  }
  for (const other of ['q=', '', 'q', 'q=maladie+de+huntington', 'q=maladie%20de%20huntington', 'q=a&q=b',
    'q=drepano&lang=de', 'q=drepano&lang=', 'q=drepano&lang=EN', 'q=drepano&limit=0', 'q=drepano&limit=101',
    'q=drepano&limit=100', 'q=drepano&limit=1', 'q=drepano&limit=abc', 'q=drepano&limit=-1', 'q=%2B232',
    'q=orpha%3A232', 'q=ORPHA%3A%20232']) {
    list.push(request('conditions', `/api/conditions${other === '' ? '' : '?'}${other}`));
  }
  return list;
}

function placesRequests() {
  const rng = prng('places');
  const list = [];
  for (const q of PLACE_QUERIES) {
    list.push(request('places', `/api/places?q=${encode(q)}`));
    if (rng.chance(35)) list.push(request('places', `/api/places?q=${encode(q)}&limit=${rng.range(1, 50)}`));
    if (rng.chance(10)) list.push(request('places', `/api/places?lang=en&q=${encode(q)}`));
  }
  for (const q of ['Créteil', 'Pointe-à-Pitre']) list.push(request('places', `/api/places?q=${utf8Bytes(q)}`));
  for (const escape of BAD_UTF8_ESCAPES) list.push(request('places', `/api/places?q=${escape}`));
  for (const other of ['q=', '', 'q', 'q=Saint+Denis', 'q=a&q=b', 'q=Paris&limit=0', 'q=Paris&limit=51',
    'q=Paris&limit=50', 'q=Saint&limit=50', 'q=Paris&limit=x']) {
    list.push(request('places', `/api/places${other === '' ? '' : '?'}${other}`));
  }
  return list;
}

// The tile x/y containing (lon, lat) at zoom z (spherical Web Mercator).
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const radians = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(radians) + 1 / Math.cos(radians)) / Math.PI) / 2) * n);
  return { x: Math.min(n - 1, Math.max(0, x)), y: Math.min(n - 1, Math.max(0, y)) };
}

function tileRequest(layer, z, x, y, suffix = '') {
  return request('tile', `/tiles/${layer}/${z}/${x}/${y}.mvt${suffix}`);
}

function tileRequests() {
  const rng = prng('tiles');
  const list = [];
  for (const [, lon, lat] of TILE_PLACES) {
    for (const [layer, minzoom, maxzoom] of LAYERS) {
      for (let z = Math.max(0, minzoom - 2); z <= Math.min(16, maxzoom + 1); z++) {
        const { x, y } = tileOf(lon, lat, z);
        list.push(tileRequest(layer, z, x, y));
      }
    }
  }
  for (let i = 0; i < 120; i++) { // neighbours of the places, with filters for the point layers
    const [, lon, lat] = rng.pick(TILE_PLACES.slice(0, 6));
    const [layer, minzoom, maxzoom] = rng.pick(LAYERS);
    const z = rng.range(Math.max(minzoom, 2), Math.min(maxzoom, 13));
    const { x, y } = tileOf(lon, lat, z);
    const pairs = ['sites', 'network', 'etablissements'].includes(layer) && rng.chance(50) ? siteFilters(rng) : [];
    list.push(tileRequest(layer, z, x + rng.range(-1, 1), y + rng.range(-1, 1), pairs.length ? `?${query(pairs)}` : ''));
  }
  for (const suffix of ['?orpha=275752', '?orpha=ORPHA:96346&role=ccmr,crmr', '?role=cooperation', '?public=enfants',
    '?orpha=399&public=adultes', '?orpha=5', '?orpha=99999999', '?role=nobody', '?public=x', '?nocache=1']) {
    for (const z of [0, 5, 9, 12]) {
      const { x, y } = tileOf(2.4, 48.8, z);
      list.push(tileRequest('sites', z, x, y, suffix));
      list.push(tileRequest('network', z, x, y, suffix));
    }
  }
  const bad = ['sites/17/0/0', 'sites/-1/0/0', 'sites/99/0/0', 'sites/1/2/0', 'sites/1/0/2', 'sites/1/-1/0',
    'sites/0/0/1', 'sites/a/0/0', 'sites/0/b/0', 'sites/0/0/c', 'sites/01/0/0', 'sites/0/00/0', 'sites/1.0/0/0',
    'sites/+1/0/0', 'sites/0x1/0/0', 'sites/ 1/0/0', 'sites/4294967297/0/0', 'sites/16/65536/0',
    'sites/16/65535/65535', 'network/15/0/0', 'areas/15/0/0', 'basemap/15/0/0', 'etablissements/17/0/0',
    'etablissements/7/64/44', 'roads/0/0/0', 'SITES/0/0/0', 'Sites/0/0/0', '/0/0/0', 'sites/0/0', 'sites/0/0/0/0',
    'sites//0/0', 'sites%2F0/0/0'];
  for (const tile of bad) list.push(request('tile', `/tiles/${tile}.mvt`));
  for (const other of ['/tiles/sites/0/0/0', '/tiles/sites/0/0/0.pbf', '/tiles/sites/0/0/0.MVT', '/tiles/sites/0/0/0.mvt.gz',
    '/tiles/sites/0/0/0.mvt/', '/tiles/sites', '/tiles/sites/', '/tiles/', '/tiles']) {
    list.push(request('tile', other));
  }
  return list;
}

function tileJsonRequests() {
  const list = [request('tiles.json', '/tiles.json'), request('tiles.json', '/tiles.json?lang=en'),
    request('tiles.json', '/tiles.json?orpha=232')];
  for (const [layer] of LAYERS) {
    list.push(request('tilejson', `/tiles/${layer}.json`));
    for (const suffix of ['?orpha=275752', '?orpha=ORPHA:96346&role=ccmr,crmr', '?role=cooperation&public=tous',
      '?public=enfants', '?orpha=99999999', '?role=nobody', '?lang=en']) {
      list.push(request('tilejson', `/tiles/${layer}.json${suffix}`));
    }
  }
  for (const other of ['/tiles/roads.json', '/tiles/SITES.json', '/tiles/.json', '/tiles/sites.JSON', '/tiles/sites.json/']) {
    list.push(request('tilejson', other));
  }
  return list;
}

const STATIC_FILES = ['/', '/index.html', '/embed', '/embed/', '/embed.html', '/css/app.css', '/icons/favicon.svg',
  '/js/api.js', '/js/app.js', '/js/combobox.js', '/js/config.js', '/js/export.js', '/js/i18n.js', '/js/map-style.js',
  '/js/mvt-layer.js', '/js/planner.js', '/js/results.js', '/js/state.js', '/vendor/leaflet/leaflet.js',
  '/vendor/leaflet/leaflet.css', '/vendor/leaflet/LICENSE', '/vendor/leaflet/images/layers.png',
  '/vendor/leaflet/images/layers-2x.png', '/vendor/leaflet/images/marker-icon.png',
  '/vendor/leaflet/images/marker-icon-2x.png', '/vendor/leaflet/images/marker-shadow.png', '/vendor/mvt/pbf.js',
  '/vendor/mvt/point-geometry.js', '/vendor/mvt/vector-tile.js', '/vendor/mvt/LICENSE-pbf', '/README.md',
  '/package.json', '/?lang=en', '/embed?orpha=232', '/js/app.js?v=1'];
const MISSING_FILES = ['/nope', '/js/nope.js', '/favicon.ico', '/robots.txt', '/.npmrc', '/.git/config',
  '/vendor/.stamp', '/css/', '/js', '/vendor', '/index.html/', '/INDEX.HTML', '/node_modules/leaflet/package.json',
  '/api', '/api/', '/api/unknown', '/api/coverage?orpha=232', '/api/service-areas?orpha=232', '/api/openapi.json',
  '/api/NEAREST?lat=48&lon=2', '/%7e', '/js/app%2Ejs', '/js%2Fapp.js', '/css/app.css%20'];

function staticRequests() {
  return [...STATIC_FILES, ...MISSING_FILES].map((target) => request('static', target));
}

// Targets fetch() would normalise or refuse; sent as is.
function badTargetRequests() {
  const manyParameters = (count) => Array.from({ length: count }, (_, i) => `p${i}=${i}`).join('&');
  const targets = ['/api/nea%00rest?lat=48&lon=2', '/api/nearest?lat=4%008&lon=2', '/%00', '/healthz%00',
    '/%2e%2e/%2e%2e/etc/passwd', '/%2E%2E/Makefile', '/js/%2E%2E%2F%2E%2E%2FMakefile', '/js/%2e%2e/index.html',
    '/api/structures/..%2f..%2fetc', '/api/structures/%2e%2e', '/api/structures/%2e', '/../../etc/passwd',
    '/js/../../Makefile', '/js/../index.html', '/./index.html', '/js/./app.js', '/..', '/.', '/js/..',
    '/tiles/sites/../sites/0/0/0.mvt', '//etc/passwd', '//healthz', '/api//nearest?lat=48&lon=2', '/js//app.js',
    '/%zz', '/%', '/%4', '/api/%FF', '/%C0%AE%C0%AE/etc/passwd', '/caf%C3%A9', utf8Bytes('/café'), '/\u00e9',
    '/healthz#fragment', '/healthz?', '/healthz??', '/healthz?&&', '/healthz?=', '/healthz?%', '/healthz?a=%zz',
    `/healthz?${manyParameters(32)}`, `/healthz?${manyParameters(33)}`, `/healthz?${manyParameters(40)}`,
    `/api/nearest?lat=48&lon=2&${manyParameters(30)}`, `/api/nearest?lat=48&lon=2&${manyParameters(31)}`,
    `/api/nearest?lat=48&lon=2&${Array(30).fill('a').join('&')}`, `/healthz?${Array(40).fill('a').join('&')}`,
    'healthz', '*', `http://${HOST_PLACEHOLDER}/healthz`, `http://${HOST_PLACEHOLDER}/api/nearest?lat=48&lon=2`,
    `/api/nearest?lat=48&lon=2&filler=${'b'.repeat(10 * 1024)}`];
  return targets.map((target) => request('bad-target', target));
}

// HEAD, OPTIONS (CORS preflight) and the methods answered 405.
function methodRequests() {
  const sample = ['/healthz', '/api/nearest?lat=48.85&lon=2.35&k=5', '/api/structures?bbox=-180,-90,180,90',
    '/api/structures/MONDOR-NF', '/api/structures/nope', '/api/conditions?q=dr%C3%A9pano', '/api/places?q=Provins',
    '/tiles.json', '/tiles/sites.json', '/tiles/sites/0/0/0.mvt', '/tiles/etablissements/0/0/0.mvt',
    '/tiles/areas/20/0/0.mvt', '/', '/embed', '/js/app.js', '/vendor/leaflet/leaflet.js', '/nope',
    '/api/nearest?lat=x', '/metrics'];
  const list = [];
  for (const target of sample) list.push(request(routeOf(target), target, { method: 'HEAD' }));
  const preflight = (extra) => [['Origin', 'https://hopital.example'], ...extra];
  for (const target of sample.slice(0, 12)) {
    list.push(request(routeOf(target), target, { method: 'OPTIONS',
      headers: preflight([['Access-Control-Request-Method', 'GET']]) }));
  }
  for (const target of ['/api/nearest?lat=48.85&lon=2.35', '/', '/nope']) {
    list.push(request(routeOf(target), target, { method: 'OPTIONS', headers: preflight([
      ['Access-Control-Request-Method', 'GET'], ['Access-Control-Request-Headers', 'if-none-match, accept-encoding']]) }));
    list.push(request(routeOf(target), target, { method: 'OPTIONS', headers: preflight([['Access-Control-Request-Method', 'POST']]) }));
    list.push(request(routeOf(target), target, { method: 'OPTIONS' }));
  }
  list.push(request('bad-target', '*', { method: 'OPTIONS' }));
  const refused = [['POST', '/api/nearest?lat=48&lon=2', 'x=1'], ['POST', '/healthz', ''], ['POST', '/', '{}'],
    ['PUT', '/healthz', '{}'], ['DELETE', '/', null], ['PATCH', '/api/structures', '[]'], ['TRACE', '/healthz', null],
    ['DELETE', '/api/structures/MONDOR-NF', null], ['POST', '/tiles/sites/0/0/0.mvt', 'x'], ['POST', '/nope', 'x'],
    ['FROB', '/healthz', null], ['get', '/healthz', null]];
  for (const [method, target, body] of refused) {
    const headers = body === null ? [] : [['Content-Type', 'application/x-www-form-urlencoded']];
    list.push(request(routeOf(target), target, { method, headers, body }));
  }
  return list;
}

// Requests with Origin / Accept-Language, answered with CORS headers and the page language.
function headerRequests() {
  const list = [];
  const targets = ['/api/nearest?lat=48.85&lon=2.35&k=3&orpha=275752', '/api/conditions?q=huntington',
    '/api/structures/NECKER-MAREP', '/api/nearest?lat=x', '/nope', '/', '/embed'];
  for (const target of targets) {
    list.push(request(routeOf(target), target, { headers: [['Origin', 'https://anywhere.example']] }));
    list.push(request(routeOf(target), target, { headers: [['Accept-Language', 'en-GB,en;q=0.9']] }));
    list.push(request(routeOf(target), target, { headers: [['Accept-Language', 'de, fr;q=0.5']] }));
  }
  return list;
}

// The same targets again with Accept-Encoding, to record the exact gzip bytes.
function gzipRequests(earlier) {
  const rng = prng('gzip');
  const encodings = ['gzip', 'gzip', 'br, gzip;q=0.8', 'gzip, deflate', 'gzip;q=0, identity', 'identity', '*', 'deflate', 'x-gzip'];
  const candidates = earlier.filter((r) => r.method === 'GET' && !r.headers.length && r.route !== 'bad-target');
  const large = ['/api/structures?bbox=-180,-90,180,90', '/', '/js/app.js', '/css/app.css', '/vendor/leaflet/leaflet.js',
    '/tiles.json', '/tiles/areas/0/0/0.mvt', '/tiles/basemap/5/16/11.mvt', '/tiles/etablissements/8/129/88.mvt',
    '/api/conditions?q=syndrome&limit=100', '/api/nearest?lat=48.85&lon=2.35&k=20', '/metrics', '/healthz', '/nope'];
  const list = large.map((target) => request(routeOf(target), target, { headers: [['Accept-Encoding', 'gzip']] }));
  for (const spec of rng.sample(candidates, 140)) {
    list.push(request(spec.route, spec.target, { headers: [['Accept-Encoding', rng.pick(encodings)]] }));
  }
  return list;
}

// If-None-Match built at run time from the ETag of the previous answer to the same target.
function revalidationRequests(earlier) {
  const rng = prng('revalidate');
  const forms = ['exact', 'exact', 'exact', 'weak', 'list', 'star', 'stale', 'other-encoding'];
  const candidates = earlier.filter((r) => r.method === 'GET' && r.route !== 'bad-target' &&
    r.headers.every(([name, value]) => name !== 'Accept-Encoding' || value === 'gzip'));
  const list = [];
  for (const spec of rng.sample(candidates, 180)) {
    list.push(request(spec.route, spec.target, { headers: spec.headers, revalidate: rng.pick(forms) }));
  }
  return list;
}

function routeOf(target) {
  const pathPart = target.split('?')[0];
  if (pathPart === '/healthz' || pathPart === '/metrics') return pathPart.slice(1);
  if (pathPart === '/api/nearest') return 'nearest';
  if (pathPart === '/api/structures') return 'structures';
  if (pathPart.startsWith('/api/structures/')) return 'structure';
  if (pathPart === '/api/conditions') return 'conditions';
  if (pathPart === '/api/places') return 'places';
  if (pathPart === '/tiles.json') return 'tiles.json';
  if (/^\/tiles\/[^/]*\.json$/.test(pathPart)) return 'tilejson';
  if (pathPart.startsWith('/tiles/')) return 'tile';
  return 'static';
}

// The whole list, in the order it is sent.
function buildRequestList() {
  const base = [...healthRequests(), ...nearestRequests(), ...structuresRequests(), ...structureRequests(),
    ...conditionsRequests(), ...placesRequests(), ...tileJsonRequests(), ...tileRequests(), ...staticRequests(),
    ...headerRequests()];
  const withGzip = [...base, ...gzipRequests(base)];
  return [...withGzip, ...revalidationRequests(withGzip), ...methodRequests(), ...badTargetRequests(),
    ...healthRequests()];
}

// ---------------------------------------------------------------------------
// The server

async function startServer({ binary, db, web }) {
  const argv = ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '2', '--web', web, '--access-log', 'off'];
  const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-16384); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready after ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = READY_LINE.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ version: match[1], sites: Number(match[2]), url: match[3] });
      }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`server exited (${code ?? signal}) before ready: ${stderr}`)); });
  });
  const { hostname, port } = new URL(ready.url);
  return {
    ...ready,
    host: `${hostname}:${port}`,
    port: Number(port),
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      process.off('exit', killOnExit);
      if (code !== 0) throw new Error(`server exit ${code ?? signal} after SIGTERM: ${stderr.slice(-4000)}`);
    },
  };
}

// ---------------------------------------------------------------------------
// One request over raw TCP

function requestBytes(method, target, headers, body) {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([name, value]) => `${name}: ${value}`)];
  const payload = body === null ? '' : body;
  if (body !== null) lines.push(`Content-Length: ${Buffer.byteLength(payload, 'latin1')}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${payload}`, 'latin1');
}

// Sends the bytes on a new connection; resolves with everything received until the server closes.
function exchange(port, bytes) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks = [];
    let error = null;
    const timer = setTimeout(() => { error = 'timeout'; socket.destroy(); }, REQUEST_TIMEOUT_MS);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (failure) => { error = error || failure.code || failure.message; });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), error });
    });
  });
}

function dechunk(bytes) {
  const parts = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd < 0) return null;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

// Status, headers ([lower-cased name, value], in received order) and body bytes.
// HEAD, 204 and 304 keep whatever followed the headers (there should be nothing).
function parseAnswer(bytes, method) {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers = lines.map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  const header = (name) => headers.find(([key]) => key === name)?.[1];
  let body = bytes.subarray(end + 4);
  if (method === 'HEAD' || status === 204 || status === 304) return { status, headers, body };
  if (/chunked/i.test(header('transfer-encoding') || '')) body = dechunk(body) ?? body;
  else if (header('content-length') !== undefined) body = body.subarray(0, Number(header('content-length')));
  return { status, headers, body };
}

// ---------------------------------------------------------------------------
// Running the list and recording the answers

function etagKey(target, headers) {
  const encoding = headers.find(([name]) => name === 'Accept-Encoding')?.[1] || '';
  return `${target}\n${encoding}`;
}

function otherEncodingTag(tag) {
  return tag.endsWith('-gz"') ? `${tag.slice(0, -4)}"` : `${tag.slice(0, -1)}-gz"`;
}

// The If-None-Match value of a revalidating request, from the ETags seen so far.
function ifNoneMatch(spec, etags) {
  const tag = etags.get(etagKey(spec.target, spec.headers));
  switch (spec.revalidate) {
    case 'star': return '*';
    case 'stale': return '"00000000-0000000000000000"';
    case 'exact': return tag;
    case 'weak': return tag && `W/${tag}`;
    case 'list': return tag && `"00000000-0000000000000000", ${tag}`;
    case 'other-encoding': return tag && otherEncodingTag(tag);
    default: return undefined;
  }
}

// The headers actually sent, Host written as the placeholder.
function headersToSend(spec, etags) {
  const headers = [['Host', HOST_PLACEHOLDER], ...spec.headers];
  const tag = spec.revalidate ? ifNoneMatch(spec, etags) : undefined;
  if (tag !== undefined) headers.push(['If-None-Match', tag]);
  headers.push(['Connection', 'close']);
  return headers;
}

function describeBody(body) {
  if (body.length > BODY_INLINE_MAX) return { length: body.length, sha256: createHash('sha256').update(body).digest('hex') };
  return { length: body.length, base64: body.toString('base64') };
}

function isMetrics(target) {
  return target.split('?')[0] === '/metrics';
}

// One line of the answers file.
function answerEntry(index, spec, headers, answer, error) {
  const entry = { i: index, route: spec.route, request: { method: spec.method, target: spec.target, headers } };
  if (!answer) return { ...entry, error: error || 'incomplete answer' };
  const kept = answer.headers.filter(([name]) => name !== 'date');
  kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (isMetrics(spec.target)) {
    return { ...entry, status: answer.status, headers: kept.filter(([name]) => name === 'content-type'),
      body: { omitted: 'metrics counters change between runs' } };
  }
  return { ...entry, status: answer.status, headers: kept, body: describeBody(answer.body), bodyBytes: answer.body };
}

async function runList(server, list) {
  const etags = new Map();
  const entries = [];
  for (const [index, spec] of list.entries()) {
    const headers = headersToSend(spec, etags);
    const sent = headers.map(([name, value]) => [name, name === 'Host' ? server.host : value]);
    const target = spec.target.replaceAll(HOST_PLACEHOLDER, server.host);
    const { bytes, error } = await exchange(server.port, requestBytes(spec.method, target, sent, spec.body));
    const answer = parseAnswer(bytes, spec.method);
    const etag = answer?.headers.find(([name]) => name === 'etag')?.[1];
    if (etag && answer.status === 200) etags.set(etagKey(spec.target, spec.headers), etag);
    entries.push(answerEntry(index, spec, headers, answer, error));
    if ((index + 1) % 500 === 0) process.stderr.write(`  ${index + 1}/${list.length}\n`);
  }
  return entries;
}

async function runAgainstServer(options, list) {
  const server = await startServer(options);
  process.stderr.write(`server ${server.version} (${server.sites} sites) on ${server.url}: ${list.length} requests\n`);
  try {
    return await runList(server, list);
  } finally {
    await server.stop();
  }
}

function serialise(entry) {
  const { bodyBytes, ...stored } = entry;
  return JSON.stringify(stored);
}

// ---------------------------------------------------------------------------
// Reports

function countBy(entries, keyOf) {
  const counts = new Map();
  for (const entry of entries) counts.set(keyOf(entry), (counts.get(keyOf(entry)) || 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function printTable(title, rows) {
  console.log(title);
  const width = Math.max(...rows.map(([key]) => String(key).length));
  for (const [key, count, detail = ''] of rows) {
    console.log(`  ${String(key).padEnd(width)}  ${String(count).padStart(5)}${detail && `   ${detail}`}`);
  }
}

// "200: 480, 400: 100" for the entries of one route.
function statusDetail(entries) {
  return countBy(entries, (entry) => entry.status ?? entry.error).map(([status, count]) => `${status}: ${count}`).join(', ');
}

function printRecordSummary(entries, file) {
  const sentHeader = (entry, name) => entry.request.headers.some(([key]) => key === name);
  const routes = countBy(entries, (entry) => entry.route).map(([route, count]) =>
    [route, count, `(${statusDetail(entries.filter((entry) => entry.route === route))})`]);
  printTable('requests per route (by status):', routes);
  printTable('by method:', countBy(entries, (entry) => entry.request.method));
  printTable('with request header:', ['Accept-Encoding', 'If-None-Match', 'Origin', 'Access-Control-Request-Method',
    'Accept-Language'].map((name) => [name, entries.filter((entry) => sentHeader(entry, name)).length]));
  console.log(`${entries.length} requests recorded in ${file}`);
}

// Where two buffers first differ, with a little context from each side.
function firstDifference(before, after) {
  let index = 0;
  while (index < before.length && index < after.length && before[index] === after[index]) index++;
  const context = (bytes) => JSON.stringify(bytes.subarray(Math.max(0, index - 24), index + 24).toString('latin1'));
  return `first differing byte at ${index}: before ${context(before)}, after ${context(after)}`;
}

function headerMap(pairs) {
  const map = new Map();
  for (const [name, value] of pairs) map.set(name, map.has(name) ? `${map.get(name)}, ${value}` : value);
  return map;
}

function show(value) {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

// The differing fields of two entries of the same request, as lines.
function differences(before, after, afterBodyBytes) {
  const lines = [];
  if (JSON.stringify(before.request.headers) !== JSON.stringify(after.request.headers)) {
    lines.push(`request headers: ${JSON.stringify(before.request.headers)} -> ${JSON.stringify(after.request.headers)}`);
  }
  if (before.error !== after.error) lines.push(`error: ${show(before.error)} -> ${show(after.error)}`);
  if (before.status !== after.status) lines.push(`status: ${show(before.status)} -> ${show(after.status)}`);
  const [old, fresh] = [headerMap(before.headers || []), headerMap(after.headers || [])];
  for (const name of [...new Set([...old.keys(), ...fresh.keys()])].sort()) {
    if (old.get(name) !== fresh.get(name)) lines.push(`header ${name}: ${show(old.get(name))} -> ${show(fresh.get(name))}`);
  }
  const [a, b] = [before.body || {}, after.body || {}];
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    const sizes = `${a.length ?? '-'} -> ${b.length ?? '-'} bytes`;
    if (a.base64 !== undefined && afterBodyBytes) {
      lines.push(`body: ${sizes}, ${firstDifference(Buffer.from(a.base64, 'base64'), afterBodyBytes)}`);
    } else {
      lines.push(`body: ${sizes}, sha256 ${a.sha256 ?? '(inline)'} -> ${b.sha256 ?? '(inline)'} (recorded as a hash: no byte offset)`);
    }
  }
  return lines;
}

function readAnswers(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

// The recorded file must come from the same request list, request for request.
function checkSameList(recorded, list) {
  if (recorded.length !== list.length) return `${recorded.length} answers recorded, the list has ${list.length} requests`;
  const moved = list.findIndex((spec, i) => spec.method !== recorded[i].request.method || spec.target !== recorded[i].request.target);
  return moved < 0 ? null : `request #${moved} differs: recorded ${recorded[moved].request.method} ${JSON.stringify(recorded[moved].request.target)}`;
}

// ---------------------------------------------------------------------------
// Modes

async function record(options) {
  const list = buildRequestList();
  const entries = await runAgainstServer(options, list);
  const temporary = `${options.out}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, entries.map(serialise).join('\n') + '\n');
  fs.renameSync(temporary, options.out);
  printRecordSummary(entries, options.out);
  return 0;
}

async function compare(options) {
  const list = buildRequestList();
  const recorded = readAnswers(options.against);
  const mismatch = checkSameList(recorded, list);
  if (mismatch) throw new UsageError(`${options.against} was recorded with another request list: ${mismatch}`);
  const entries = await runAgainstServer(options, list);
  let count = 0;
  let requests = 0;
  for (const [i, entry] of entries.entries()) {
    const lines = differences(recorded[i], JSON.parse(serialise(entry)), entry.bodyBytes);
    if (!lines.length) continue;
    count += lines.length;
    requests += 1;
    console.log(`#${i} [${entry.route}] ${entry.request.method} ${JSON.stringify(entry.request.target)}`);
    for (const line of lines) console.log(`    ${line}`);
  }
  console.log(count === 0 ? `${entries.length} requests, 0 differences`
    : `${entries.length} requests, ${count} differences (in ${requests} requests)`);
  return count === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Command line

class UsageError extends Error {}

const USAGE = `usage: node tools/record-answers.mjs record  --binary PATH --db PATH --web DIR --out FILE
       node tools/record-answers.mjs compare --binary PATH --db PATH --web DIR --against FILE`;

function parseArguments(argv) {
  const [mode, ...rest] = argv;
  if (mode !== 'record' && mode !== 'compare') throw new UsageError(USAGE);
  const options = { mode };
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i].replace(/^--/, '');
    if (!['binary', 'db', 'web', 'out', 'against'].includes(name) || rest[i + 1] === undefined) throw new UsageError(USAGE);
    options[name] = rest[i + 1];
  }
  const needed = ['binary', 'db', 'web', mode === 'record' ? 'out' : 'against'];
  if (needed.some((name) => !options[name])) throw new UsageError(USAGE);
  for (const name of ['binary', 'db', 'web']) options[name] = path.resolve(options[name]);
  return options;
}

async function main() {
  try {
    const options = parseArguments(process.argv.slice(2));
    process.exitCode = options.mode === 'record' ? await record(options) : await compare(options);
  } catch (error) {
    console.error(error instanceof UsageError ? error.message : `record-answers: ${error.stack || error}`);
    process.exitCode = 2;
  }
}

await main();
