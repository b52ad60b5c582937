// Helpers shared by the browser suite's test files: the child processes (the Go
// binaries, the example backend), Debian's Chromium, and a throwaway TLS
// certificate Chromium can be told to trust.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
export const execFileP = promisify(execFile);

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

// The processes a test file started; stopAll() ends every one of them.
export class Processes {
  children = [];

  // Starts bin and resolves with the match of `ready` in its output (stdout or
  // stderr) — rejects if it exits first or is not ready within 20 s.
  start(name, bin, args, { env = {}, ready }) {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const proc = { name, child, log: '' };
    const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
    proc.exited = exited;
    this.children.push(proc);
    return new Promise((resolveReady, reject) => {
      const onData = (d) => {
        proc.log += d;
        const m = proc.log.match(ready);
        if (m) resolveReady(m);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${proc.log}`)));
      setTimeout(() => reject(new Error(`${name} not ready within 20 s:\n${proc.log}`)), 20_000).unref();
    });
  }

  find(name) {
    return this.children.find((p) => p.name === name);
  }

  stopAll() {
    return Promise.all(this.children.map(stop));
  }
}

// SIGTERM, then SIGKILL after 5 s.
export async function stop(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
  await proc.exited;
  clearTimeout(timer);
}

// The Go binary from envVar (RELAYAPI_BIN, MOCKPROVIDER_BIN), else built from
// ../../server into work/bin.
export async function goBinary(work, name, envVar) {
  if (process.env[envVar]) return process.env[envVar];
  const out = join(work, 'bin', name);
  await execFileP('go', ['build', '-o', out, `./cmd/${name}`], { cwd: join(repo, 'server'), timeout: 300_000 });
  return out;
}

// The relay's access log in a process's output: one JSON line per request,
// token redacted.
export function accessLog(proc) {
  return proc.log
    .split('\n')
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l));
}

// A throwaway CA and a leaf it signed for 127.0.0.1 and localhost, with the openssl
// CLI (node:crypto makes keys, not certificates). spki is what Chromium's
// --ignore-certificate-errors-spki-list takes: base64(SHA-256(leaf's SubjectPublicKeyInfo)).
export async function makeCertificate(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];
  const [caKey, caFile, keyFile, certFile] = ['ca.key', 'ca.pem', 'leaf.key', 'leaf.pem'].map((f) => join(dir, f));
  await execFileP('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-subj', '/CN=RelayAPI e2e CA']);
  const leafExtensions = [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'basicConstraints=critical,CA:FALSE',
    'extendedKeyUsage=serverAuth',
  ].flatMap((e) => ['-addext', e]);
  await execFileP('openssl', [
    ...['req', '-x509', ...ec, '-CA', caFile, '-CAkey', caKey, '-keyout', keyFile, '-out', certFile],
    ...['-subj', '/CN=127.0.0.1', ...leafExtensions],
  ]);
  const der = new X509Certificate(await readFile(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return { caFile, certFile, keyFile, spki: createHash('sha256').update(der).digest('base64') };
}
