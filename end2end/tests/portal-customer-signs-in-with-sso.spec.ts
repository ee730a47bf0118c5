import { request as playwrightRequest, APIRequestContext } from '@playwright/test';
import { test, expect, hydrated } from '../fixtures';
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A customer's employee signs in at their company's identity provider (a
// real `oidc-provider` process), lands in the portal, downloads the signed
// annex (checked with poppler's pdfsig), and reaches nothing else.
// The DPO publishes the annex first (the demo data has no published version).

// One customer per run, each with its own e-mail domain: a domain belongs
// to the providers of one organisation only, so the second processor could
// not claim the first one's customer domain.
const ORG = {
  'with-js': { short: 'clickbits', dpo: 'dpo@clickbits.example', user: 'kunde@beispiel-kunde.example', password: 'kunde-passwort', domain: 'beispiel-kunde.example' },
  'without-js': { short: 'conrat', dpo: 'dpo@conrat.example', user: 'kunde@zweiter-kunde.example', password: 'zweiter-passwort', domain: 'zweiter-kunde.example' },
};
const PASSWORD = 'Nachweis-Demo-2026';

let idp: ChildProcess;
let issuer: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

test.beforeAll(async ({ baseURL }) => {
  const port = await freePort();
  idp = spawn('node', ['peers/oidc-provider.mjs', '--port', String(port), '--redirect', `${baseURL}/sso/callback`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('OIDC provider did not start')), 20_000);
    idp.stdout!.on('data', (chunk: Buffer) => {
      const m = chunk.toString().match(/READY (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
});

test.afterAll(() => {
  idp?.kill();
});

async function call(api: APIRequestContext, endpoint: string, form: Record<string, string>) {
  return api.post(`/api/${endpoint}`, { form, headers: { Accept: 'application/json' } });
}

test('a customer signs in with SSO, downloads the signed annex, and sees nothing internal', async ({ page, baseURL }, info) => {
  const js = info.project.name === 'with-js';
  const org = ORG[info.project.name as keyof typeof ORG];
  const providerName = `Beispiel Kunde AG (${org.short})`;

  // The DPO sets up the customer and its provider (through the same server functions the admin page uses).
  const dpo = await playwrightRequest.newContext({ baseURL });
  expect((await call(dpo, 'auth/login', { email: org.dpo, password: PASSWORD })).ok()).toBeTruthy();
  const customer = await call(dpo, 'customers/add', { name: `Beispiel Kunde AG ${info.project.name}` });
  expect(customer.ok(), await customer.text()).toBeTruthy();
  const provider = await call(dpo, 'sso/providers/add', {
    customer: await customer.text(),
    name: providerName,
    issuer_url: issuer,
    client_id: 'nachweis',
    client_secret: 'nachweis-secret',
    allowed_domains: org.domain,
  });
  expect(provider.ok(), await provider.text()).toBeTruthy();
  // A published version must exist (the demo data has none).
  await call(dpo, 'annex/publish', {});
  await dpo.dispose();

  // The customer only knows their e-mail address.
  await page.goto('/login');
  if (js) await hydrated(page);
  await page.getByLabel('Geschäftliche E-Mail für Single Sign-on').fill(org.user);
  await page.getByRole('button', { name: 'Weiter mit Single Sign-on' }).click();
  await page.getByRole('link', { name: `Weiter mit ${providerName}` }).click();

  // The provider's own login page.
  await expect(page.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await expect(page.getByLabel('E-mail')).toHaveValue(org.user);
  await page.getByLabel('Password').fill(org.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back in Nachweis, in the portal.
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole('heading', { name: 'Technische und organisatorische Maßnahmen' })).toBeVisible();
  await expect(page.getByRole('heading', { name: /Aktuelle Fassung: Version \d+/ })).toBeVisible();
  // The second look remembers the first.
  await page.reload();
  await expect(page.getByRole('heading', { name: /Seit Ihrem letzten Besuch am/ })).toBeVisible();
  await expect(page.getByText('Keine neue Fassung der Anlage.')).toBeVisible();

  const download = page.getByRole('link', { name: 'Signierte Anlage herunterladen (PDF)' });
  const href = await download.getAttribute('href');
  expect(href).toMatch(/^\/portal\/anlage\/v\d+\.pdf$/);
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('application/pdf');
  const dir = mkdtempSync(join(tmpdir(), 'nachweis-e2e-'));
  const file = join(dir, 'anlage.pdf');
  writeFileSync(file, await res.body());
  let out = '';
  try {
    out = execFileSync('pdfsig', [file], { encoding: 'utf8' });
  } catch (e) {
    // pdfsig exits non-zero for an untrusted (self-signed) signer; the signature itself must still be valid.
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  expect(out).toContain('Signature Validation: Signature is Valid.');
  expect(out).toContain('Total document signed');

  // Nothing internal: pages and server functions alike.
  for (const endpoint of ['toms/catalogue', 'evidence/list', 'customers/list', 'sso/providers', 'audit/list']) {
    const r = await page.request.post(`/api/${endpoint}`, { form: {}, headers: { Accept: 'application/json' } });
    expect([401, 403, 400], `${endpoint} answered ${r.status()}`).toContain(r.status());
  }
  const catalogue = await page.request.post('/api/toms/catalogue', { form: {}, headers: { Accept: 'application/json' } });
  expect(catalogue.status()).toBe(403);
  await page.goto('/massnahmen');
  await expect(page.getByText('Dafür fehlt Ihnen die Berechtigung.')).toBeVisible();
  const me = await (await page.request.post('/api/auth/me', { form: {}, headers: { Accept: 'application/json' } })).json();
  expect(me.org.short_name).toBe(org.short);
  expect(me.org.role).toBe('customer');
  expect(me.orgs.length).toBe(1);
  // Every other organisation (the other demo organisation among them) is out of reach.
  for (const id of [1, 2, 3, 4].filter((id) => id !== me.org.id)) {
    const r = await page.request.post('/api/auth/switch-org', {
      form: { org_id: String(id) },
      headers: { Accept: 'application/json' },
      maxRedirects: 0,
    });
    expect(r.status(), `switching to organisation ${id}`).toBeGreaterThanOrEqual(400);
  }
});
