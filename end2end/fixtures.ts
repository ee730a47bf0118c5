import { test as base, expect, Page } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

// Every spec file, in every project, gets a server of its own with fresh
// demo data, so no spec depends on what another one did (or on the order
// they run in). As scripts/test.sh did for the one shared server before:
// the binary alone in an empty directory (no LEPTOS_SITE_ROOT, no target/),
// `nachweis demo`, then `nachweis serve`; every file the pages load comes
// out of the binary.
//
// The binary is named in NACHWEIS_E2E_BINARY (scripts/test.sh passes the
// debug build). NACHWEIS_E2E_URL instead points every spec at one running
// server (handy while writing a spec; the specs then share its data).

export { expect };

/** Waits until the app has hydrated, so the hydrated code path is what is tested. */
export async function hydrated(page: Page) {
  // The one attribute selector left: lib.rs sets it on <body> when hydration is done.
  await expect(page.locator('body[data-hydrated=true]')).toBeAttached();
}

/** The password of every demo login (`nachweis demo`). */
export const DEMO_PASSWORD = 'Nachweis-Demo-2026';

/**
 * Signs in through the login form, as a person does. With JavaScript the
 * form is used only once the app has hydrated, so the hydrated code path
 * is what is tested.
 */
export async function logIn(page: Page, js: boolean, email: string, password = DEMO_PASSWORD) {
  await page.goto('/login');
  if (js) await hydrated(page);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden' }).click();
}

/** [`logIn`] as the ConRat DPO, until the start page greets her. */
export async function logInAsDpo(page: Page, js: boolean) {
  await logIn(page, js, 'dpo@conrat.example');
  await expect(page.getByRole('heading', { name: /Guten Tag, Katrin Vogel/ })).toBeVisible();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class DemoServer {
  private constructor(
    readonly url: string,
    private readonly dir: string,
    private readonly proc: ChildProcess,
  ) {}

  static async start(binary: string, label: string): Promise<DemoServer> {
    const dir = mkdtempSync(join(tmpdir(), `nachweis-e2e-${label.replace(/[^A-Za-z0-9-]+/g, '_')}-`));
    try {
      const exe = join(dir, 'nachweis');
      try {
        linkSync(binary, exe);
      } catch {
        // Another file system: a copy does the same.
        copyFileSync(binary, exe);
        chmodSync(exe, 0o755);
      }
      mkdirSync(join(dir, 'data'));
      // The test OpenID Connect provider listens on loopback: allowed explicitly.
      writeFileSync(join(dir, 'data', 'nachweis.toml'), '[sso]\nallow_private_addresses = true\n');
      const env = { ...process.env };
      delete env.LEPTOS_SITE_ROOT;
      execFileSync('./nachweis', ['demo'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });

      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const proc = spawn('./nachweis', ['serve', '--listen', `127.0.0.1:${port}`], {
        cwd: dir,
        env: { ...env, NACHWEIS_LOG: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Keep the end of its output for the error message, and keep the pipes drained.
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-4000);
      };
      proc.stdout!.on('data', keep);
      proc.stderr!.on('data', keep);
      // Warnings the server logs while a spec runs are worth seeing.
      proc.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[nachweis ${label}] ${chunk}`));
      let exited: string | null = null;
      proc.on('exit', (code, signal) => {
        exited = `exited (${code ?? signal})`;
      });
      const server = new DemoServer(url, dir, proc);
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (exited) {
          await server.stop();
          throw new Error(`nachweis serve ${exited} before it answered /healthz:\n${output}`);
        }
        try {
          if ((await fetch(`${url}/healthz`)).ok) return server;
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline) {
          await server.stop();
          throw new Error(`nachweis serve did not answer /healthz within 30 s:\n${output}`);
        }
        await sleep(100);
      }
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const gone = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const killed = await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)]);
      if (!killed) {
        this.proc.kill('SIGKILL');
        await gone;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One per worker. A worker runs one spec file of one project at a time; when
 * the next file (or project) comes, the previous server is stopped and a
 * fresh one started.
 */
class Servers {
  private current: { key: string; server: DemoServer } | null = null;

  async urlFor(project: string, file: string): Promise<string> {
    const key = `${project}:${file}`;
    if (this.current?.key !== key) {
      await this.stopAll();
      const binary = process.env.NACHWEIS_E2E_BINARY;
      if (!binary) {
        throw new Error('NACHWEIS_E2E_BINARY is not set: name the nachweis binary to test (scripts/test.sh does), or set NACHWEIS_E2E_URL');
      }
      const label = `${project}-${basename(file).replace(/\.spec\.ts$/, '')}`;
      this.current = { key, server: await DemoServer.start(binary, label) };
    }
    return this.current!.server.url;
  }

  async stopAll() {
    const c = this.current;
    this.current = null;
    if (c) await c.server.stop();
  }
}

export const test = base.extend<object, { nachweisServers: Servers }>({
  nachweisServers: [
    async ({}, use) => {
      const servers = new Servers();
      await use(servers);
      await servers.stopAll();
    },
    { scope: 'worker' },
  ],
  // Also available in beforeAll hooks (the SSO spec needs it there).
  baseURL: [
    async ({ nachweisServers }, use, testInfo) => {
      const fixed = process.env.NACHWEIS_E2E_URL;
      await use(fixed ? fixed : await nachweisServers.urlFor(testInfo.project.name, testInfo.file));
    },
    // Starting a server (demo data included) has its own time, not the test's.
    { timeout: 60_000 },
  ],
});
