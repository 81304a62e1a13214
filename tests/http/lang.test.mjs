// The language of the API's texts on a real server: `lang=fr|en`, else
// Accept-Language, else French. The same results in both languages, the
// texts in each, an ETag per language (a French tag never revalidates an
// English answer) and `Vary: Accept-Language`; `lang=de` is a 400 problem.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

async function get(path, headers = {}) {
  const response = await fetch(`${server.url}${path}`, { headers: { 'Accept-Encoding': 'identity', ...headers } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : null };
}

const with_lang = (path, lang) => `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`;

/* Each route: a question, what must be equal in both languages, and a text
 * that must differ. */
const routes = [
  {
    path: '/api/nearest?lat=48.8566&lon=2.3522&orpha=586&k=5',
    results: (body) => body.results.map((site) => [site.site_id, site.distance_m]),
    texts: (body) => [body.query.label, body.results[0].orpha_matched.label],
    expected: { fr: ['Mucoviscidose', 'Mucoviscidose'], en: ['Cystic fibrosis', 'Cystic fibrosis'] },
  },
  {
    path: '/api/conditions?q=586',
    results: (body) => body.results.map((condition) => [condition.orpha, condition.sites]),
    texts: (body) => [body.results[0].label],
    expected: { fr: ['Mucoviscidose'], en: ['Cystic fibrosis'] },
  },
  {
    path: '/api/coverage?orpha=586&radius_km=100',
    results: (body) => [body.selected_sites, body.total.covered_population, body.results.map((area) => area.share)],
    texts: (body) => [body.query.label, body.territories[0].name],
    expected: { fr: ['Mucoviscidose', 'France métropolitaine'], en: ['Cystic fibrosis', 'Metropolitan France'] },
  },
  {
    path: '/api/service-areas?orpha=586',
    results: (body) => body.features.map((feature) => [feature.id, feature.properties.population]),
    texts: (body) => [body.query.label],
    expected: { fr: ['Mucoviscidose'], en: ['Cystic fibrosis'] },
  },
];

for (const route of routes) {
  test(`${route.path}: the same results in French and English, the texts and ETag of each`, async () => {
    const fr = await get(with_lang(route.path, 'fr'));
    const en = await get(with_lang(route.path, 'en'));
    assert.equal(fr.status, 200, fr.text);
    assert.equal(en.status, 200, en.text);
    assert.deepEqual(route.results(en.body), route.results(fr.body));
    assert.ok(route.results(fr.body).length > 0, 'something to compare');
    assert.deepEqual(route.texts(fr.body), route.expected.fr);
    assert.deepEqual(route.texts(en.body), route.expected.en);
    const frTag = fr.headers.get('etag');
    const enTag = en.headers.get('etag');
    assert.ok(frTag && enTag && frTag !== enTag, `ETags ${frTag} and ${enTag}`);
    for (const answer of [fr, en]) assert.match(answer.headers.get('vary') ?? '', /Accept-Language/);
    // The French tag does not revalidate the English answer; its own does.
    const crossed = await fetch(`${server.url}${with_lang(route.path, 'en')}`, { headers: { 'If-None-Match': frTag } });
    assert.equal(crossed.status, 200);
    await crossed.arrayBuffer();
    const same = await fetch(`${server.url}${with_lang(route.path, 'en')}`, { headers: { 'If-None-Match': enTag } });
    assert.equal(same.status, 304);
    await same.arrayBuffer();
    // Without lang, Accept-Language chooses, and the tag follows the choice.
    const byHeader = await get(route.path, { 'Accept-Language': 'en-GB,en;q=0.9,fr;q=0.5' });
    const byDefault = await get(route.path);
    assert.deepEqual(route.texts(byHeader.body), route.expected.en);
    assert.deepEqual(route.texts(byDefault.body), route.expected.fr);
    assert.notEqual(byHeader.headers.get('etag'), byDefault.headers.get('etag'));
    assert.match(byHeader.headers.get('vary') ?? '', /Accept-Language/);
    const revalidated = await fetch(`${server.url}${route.path}`, {
      headers: { 'Accept-Language': 'en', 'If-None-Match': byDefault.headers.get('etag') },
    });
    assert.equal(revalidated.status, 200, 'the French default tag does not revalidate an English answer');
    await revalidated.arrayBuffer();
  });
}

test('lang other than fr or en is a 400 problem on every API route', async () => {
  for (const path of [
    '/api/nearest?lat=48.8&lon=2.3',
    '/api/structures?bbox=2.2,48.8,2.5,48.9',
    '/api/structures/NECKER-MAREP',
    '/api/conditions?q=drepano',
    '/api/places?q=Provins',
    '/api/coverage?orpha=586&radius_km=100',
    '/api/service-areas?orpha=586',
  ]) {
    const answer = await get(with_lang(path, 'de'));
    assert.equal(answer.status, 400, path);
    assert.match(answer.headers.get('content-type'), /^application\/problem\+json/);
    assert.match(answer.body.detail, /'lang' must be fr or en/);
  }
});

test('nearest for a group nothing covers: the message and uncovered in the asked language', async () => {
  const fr = await get('/api/nearest?lat=48.56297&lon=3.28776&orpha=98006&lang=fr');
  const en = await get('/api/nearest?lat=48.56297&lon=3.28776&orpha=98006', { 'Accept-Language': 'en-US,en;q=0.8' });
  assert.deepEqual(fr.body.results, []);
  assert.match(fr.body.message, /^Aucun site du réseau ne couvre « Maladie neurologique rare » \(ORPHA:98006\)/);
  assert.match(en.body.message, /^No site of the network covers "Rare neurologic disease" \(ORPHA:98006\)/);
  const conditions = (body) => body.uncovered.covered_conditions.map((entry) => [entry.orpha, entry.sites]);
  assert.ok(fr.body.uncovered.covered_conditions.length > 0);
  assert.deepEqual(conditions(en.body), conditions(fr.body));
  assert.equal(fr.body.uncovered.covered_conditions_total, en.body.uncovered.covered_conditions_total);
  assert.equal(en.body.uncovered.label, 'Rare neurologic disease');
  assert.deepEqual(en.body.uncovered.filieres.map((entry) => entry.filiere), fr.body.uncovered.filieres.map((entry) => entry.filiere));
});
