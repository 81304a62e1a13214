// docs/openapi.json stays true: it validates as OpenAPI 3.1 (a real
// validator, @seriousme/openapi-schema-validator), the server serves it at
// /api/openapi.json (same bytes, ETag, 304, gzip), it describes every route
// of the server's route table (`maillage routes`, the table the server
// dispatches through) and only those, and every operation's x-test-requests,
// sent to a real server on the shipped data, answer the documented status,
// content type and required headers with a body that validates against the
// documented schema (ajv, JSON Schema 2020-12, with the component schemas).
// Parameters: each documented default gives the same answer as leaving the
// parameter out, and a value past a documented maximum is a 400 problem.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import { startServer, binary } from './server.mjs';

const documentPath = path.resolve('docs/openapi.json');
const documentBytes = fs.readFileSync(documentPath);
const doc = JSON.parse(documentBytes.toString('utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(doc, 'openapi.json');

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

// JSON pointer escaping of one token.
const token = (text) => String(text).replace(/~/g, '~0').replace(/\//g, '~1');

// Follows a local $ref ("#/components/…"); returns [object, its pointer].
function resolve(object, pointer) {
  while (object && object.$ref) {
    pointer = object.$ref;
    object = object.$ref.slice(2).split('/').reduce((node, part) => node[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return [object, pointer];
}

// Every operation: { path, method, operation, pointer }.
const operations = Object.entries(doc.paths).flatMap(([route, item]) =>
  Object.entries(item)
    .filter(([method]) => ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'].includes(method))
    .map(([method, operation]) => ({ route, method, operation, pointer: `#/paths/${token(route)}/${method}` })));

// The concrete target of an x-test-request.
function target(operation, request) {
  const pathname = request.path ?? operation.route;
  assert.ok(!pathname.includes('{'), `${operation.route}: x-test-request needs a concrete path`);
  return request.query ? `${pathname}?${request.query}` : pathname;
}

function validateBody(schemaPointer, body, what) {
  const validate = ajv.getSchema(`openapi.json${schemaPointer}`);
  assert.ok(validate, `${what}: no schema at ${schemaPointer}`);
  const valid = validate(body);
  assert.ok(valid, `${what}: body does not match ${schemaPointer}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}\n${JSON.stringify(body).slice(0, 600)}`);
}

// Checks one answer against the operation's documented response for its status.
async function checkAnswer(operation, response, what) {
  const documented = operation.operation.responses[String(response.status)];
  assert.ok(documented, `${what}: status ${response.status} is not documented`);
  const [description, pointer] = resolve(documented, `${operation.pointer}/responses/${response.status}`);
  for (const [name, header] of Object.entries(description.headers ?? {})) {
    const [resolved] = resolve(header);
    if (resolved.required) assert.ok(response.headers.get(name), `${what}: no ${name} header`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (!description.content) {
    assert.equal(bytes.length, 0, `${what}: a ${response.status} has no body`);
    return;
  }
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim();
  assert.ok(description.content[type], `${what}: content type ${type} is not documented (${Object.keys(description.content)})`);
  const schemaPointer = `${pointer}/content/${token(type)}/schema`;
  if (/json$/.test(type)) validateBody(schemaPointer, JSON.parse(bytes.toString('utf8')), what);
  else if (/^text\//.test(type)) validateBody(schemaPointer, bytes.toString('utf8'), what);
  else assert.ok(bytes.length > 0, `${what}: empty ${type} body`);
}

test('docs/openapi.json validates as OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  assert.equal(validator.version, '3.1');
  assert.ok(result.valid, JSON.stringify(result.errors, null, 1));
  // The validator does reject a broken document (a test that cannot fail is a defect).
  const broken = structuredClone(doc);
  broken.paths['/api/nearest'].get.responses['200'] = { content: {} };
  assert.equal((await validator.validate(broken)).valid, false);
});

test('/api/openapi.json serves the document: same bytes, ETag, 304, gzip', async () => {
  const response = await fetch(`${server.url}/api/openapi.json`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/json');
  assert.match(response.headers.get('cache-control'), /max-age=/);
  const etag = response.headers.get('etag');
  assert.ok(etag);
  assert.ok(Buffer.from(await response.arrayBuffer()).equals(documentBytes), 'served bytes differ from docs/openapi.json');
  const again = await fetch(`${server.url}/api/openapi.json`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const gzipped = await new Promise((resolveAnswer, reject) => {
    import('node:http').then(({ default: http }) => {
      http.get(`${server.url}/api/openapi.json`, { headers: { 'Accept-Encoding': 'gzip' } }, (answer) => {
        const chunks = [];
        answer.on('data', (chunk) => chunks.push(chunk));
        answer.on('end', () => resolveAnswer({ headers: answer.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
  });
  assert.equal(gzipped.headers['content-encoding'], 'gzip');
  assert.ok(zlib.gunzipSync(gzipped.body).equals(documentBytes));
});

test('every route of the route table is described, and only those', () => {
  const routes = execFileSync(binary, ['routes'], { encoding: 'utf8' }).trim().split('\n').map((line) => {
    const [method, route, match, kind] = line.split(' ');
    return { method, route, match, kind };
  });
  assert.ok(routes.length >= 10, 'maillage routes lists the table');
  const described = Object.keys(doc.paths);
  for (const { method, route, match } of routes) {
    const lower = method.toLowerCase();
    if (match === 'exact') {
      assert.ok(doc.paths[route]?.[lower], `route ${method} ${route} is not described`);
    } else {
      const under = described.filter((p) => p.startsWith(route) && p.length > route.length);
      assert.ok(under.length > 0 && under.every((p) => doc.paths[p][lower]), `prefix route ${method} ${route} is not described`);
    }
  }
  for (const described_path of described) {
    const exact = routes.find((r) => r.match === 'exact' && r.route === described_path);
    const prefix = routes.find((r) => r.match === 'prefix' && described_path.startsWith(r.route) && described_path.length > r.route.length);
    assert.ok(exact || prefix, `${described_path} is described but no route answers it`);
  }
});

test('every operation has example requests, a 200 among them', () => {
  for (const operation of operations) {
    const requests = operation.operation['x-test-requests'];
    assert.ok(Array.isArray(requests) && requests.length > 0, `${operation.route}: no x-test-requests`);
    assert.ok(requests.some((r) => r.status === 200), `${operation.route}: no 200 example`);
    for (const request of requests) {
      assert.ok(operation.operation.responses[String(request.status)], `${operation.route}: example status ${request.status} is not documented`);
    }
  }
});

test('every example request answers as documented', async () => {
  let count = 0;
  for (const operation of operations) {
    for (const request of operation.operation['x-test-requests']) {
      const url = target(operation, request);
      const response = await fetch(`${server.url}${url}`, { method: operation.method.toUpperCase() });
      assert.equal(response.status, request.status, `GET ${url}: status`);
      await checkAnswer(operation, response, `GET ${url}`);
      count++;
    }
  }
  assert.ok(count >= operations.length);
});

test('a documented ETag gives 304 on If-None-Match', async () => {
  for (const operation of operations) {
    if (!operation.operation.responses['304']) continue;
    const url = target(operation, operation.operation['x-test-requests'].find((r) => r.status === 200));
    const first = await fetch(`${server.url}${url}`);
    const etag = first.headers.get('etag');
    assert.ok(etag, `GET ${url}: no ETag`);
    await first.arrayBuffer();
    const second = await fetch(`${server.url}${url}`, { headers: { 'If-None-Match': etag } });
    assert.equal(second.status, 304, `GET ${url} with its ETag`);
    await checkAnswer(operation, second, `GET ${url} (304)`);
  }
});

// The query parameters of an operation, resolved.
const queryParameters = (operation) =>
  (operation.operation.parameters ?? []).map((parameter) => resolve(parameter)[0]).filter((parameter) => parameter.in === 'query');

test('documented defaults give the same answer as no parameter', async () => {
  let checked = 0;
  for (const operation of operations) {
    const example = operation.operation['x-test-requests'].find((r) => r.status === 200 && r.query !== undefined);
    if (!example) continue;
    for (const parameter of queryParameters(operation)) {
      const [schema] = resolve(parameter.schema);
      if (schema.default === undefined) continue;
      const query = new URLSearchParams(example.query);
      query.delete(parameter.name);
      const pathname = example.path ?? operation.route;
      const without = await (await fetch(`${server.url}${pathname}?${query}`)).text();
      query.set(parameter.name, String(schema.default));
      const withDefault = await (await fetch(`${server.url}${pathname}?${query}`)).text();
      assert.equal(withDefault, without, `${operation.route}: ${parameter.name}=${schema.default} is not the default`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} defaults checked`);
});

test('values past a documented maximum or outside an enum are 400 problems', async () => {
  let checked = 0;
  for (const operation of operations) {
    const example = operation.operation['x-test-requests'].find((r) => r.status === 200 && r.query !== undefined);
    if (!example) continue;
    for (const parameter of queryParameters(operation)) {
      const [schema] = resolve(parameter.schema);
      const bad = [];
      if (schema.maximum !== undefined) bad.push(String(schema.maximum + 1));
      if (schema.minimum !== undefined) bad.push(String(schema.minimum - 1));
      if (schema.enum) bad.push('not-a-value');
      for (const value of bad) {
        const query = new URLSearchParams(example.query);
        query.set(parameter.name, value);
        const url = `${example.path ?? operation.route}?${query}`;
        const response = await fetch(`${server.url}${url}`);
        assert.equal(response.status, 400, `GET ${url}`);
        await checkAnswer(operation, response, `GET ${url}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 10, `only ${checked} values checked`);
});

test('other methods are the documented 405 problem; unknown paths a 404 problem', async () => {
  const [methodNotAllowed] = resolve(doc.components.responses.MethodNotAllowed);
  for (const operation of operations) {
    const url = target(operation, operation.operation['x-test-requests'][0]);
    const response = await fetch(`${server.url}${url}`, { method: 'POST', body: '' });
    assert.equal(response.status, 405, `POST ${url}`);
    assert.ok(response.headers.get('allow'), `POST ${url}: Allow`);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    assert.ok(methodNotAllowed.content['application/problem+json']);
    validateBody('#/components/responses/MethodNotAllowed/content/application~1problem+json/schema', await response.json(), `POST ${url}`);
  }
  const missing = await fetch(`${server.url}/api/no-such-route`);
  assert.equal(missing.status, 404);
  validateBody('#/components/responses/NotFound/content/application~1problem+json/schema', await missing.json(), 'GET /api/no-such-route');
});
