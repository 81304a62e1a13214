// SIGTERM: the server stops accepting connections at once, lets a request
// already in flight finish (here one whose headers are still arriving),
// then exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './server.mjs';

function connect(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

test('SIGTERM finishes the request in flight, refuses new connections, exits 0', async () => {
  const server = await startServer();
  let exitCode;
  server.exited.then(({ code }) => { exitCode = code; });
  const socket = await connect(server.url);
  const received = [];
  socket.on('data', (chunk) => received.push(chunk));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  // The request line and one header: the request is in flight, not complete.
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  await sleep(200);
  server.process.kill('SIGTERM');
  await sleep(500);
  assert.equal(exitCode, undefined, 'still running while a request is in flight');
  await assert.rejects(connect(server.url), /ECONNREFUSED|ECONNRESET/, 'no new connection');
  socket.write('Connection: close\r\n\r\n');
  await closed;
  const answer = Buffer.concat(received).toString();
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.match(answer, /"status":"ok"/);
  const { code } = await server.exited;
  assert.equal(code, 0, server.stderr);
});
