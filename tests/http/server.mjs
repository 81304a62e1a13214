// Test helper: starts `maillage serve` on a free 127.0.0.1 port and stops it.
//
// The binary and database come from MAILLAGE_BINARY and MAILLAGE_DATABASE
// (exported by tests/run.sh; under SAN=1 they are the sanitizer build's).
// startServer() resolves once the server printed its ready line; stop()
// sends SIGTERM and rejects unless the process exits with status 0 (so a
// sanitizer report at exit fails the test).
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const binary = process.env.MAILLAGE_BINARY || path.resolve('build/maillage');
export const database = process.env.MAILLAGE_DATABASE || path.resolve('build/maillage.sqlite');
const startTimeoutMs = Number(process.env.MAILLAGE_START_TIMEOUT_MS || 60000);

const readyPattern = /^maillage: serving (\S+) \((\d+) sites\) on (http:\/\/\S+) in /m;

export async function startServer({ args = [], db = database, accessLog = 'off' } = {}) {
  const argv = ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '2'];
  if (accessLog !== null) argv.push('--access-log', accessLog);
  argv.push(...args);
  const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server not ready after ${startTimeoutMs} ms: ${stderr}`));
    }, startTimeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = readyPattern.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ version: match[1], sites: Number(match[2]), url: match[3] });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before ready: ${stderr}`));
    });
  });
  return {
    ...ready,
    process: child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`server exit ${code ?? signal}: ${stderr.slice(-4000)}`);
      return { stdout, stderr };
    },
  };
}

// Sends `text` as is (each char one byte, latin1) on a new connection and parses the HTTP/1.1 answer
// (status, lower-cased headers, body as a Buffer). For requests fetch()
// would normalise or refuse (dot segments, odd methods, raw bytes).
export function rawRequest(url, text, { timeoutMs = 10000 } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer to ${JSON.stringify(text.slice(0, 80))}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(Buffer.from(text, 'latin1'))); // one byte per char
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      // The server may close after answering before we finished writing.
      if (chunks.length === 0) {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parseResponse(bytes) {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`incomplete HTTP answer: ${JSON.stringify(bytes.toString())}`);
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, body };
}

// A GET with "Connection: close" for rawRequest.
export function rawGet(url, target, method = 'GET', extra = '') {
  const { host } = new URL(url);
  return rawRequest(url, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
}
