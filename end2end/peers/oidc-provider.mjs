// A real OpenID Connect provider for Nachweis's tests: the certified
// `oidc-provider` package on loopback, with two static clients and a few
// test users whose passwords it checks. Prints `READY <issuer>` when it
// listens.
//
//   node peers/oidc-provider.mjs --port 4010 --redirect http://127.0.0.1:3000/sso/callback
//
// Tests that need a misbehaving provider POST a JSON object to
// /__test/tamper: `{ "aud": "...", "iss": "...", "nonce": "..." }` rewrites
// those claims of the next ID tokens (re-signed with the provider's own
// key), `{ "exp_offset": -3600 }` lets them expire that many seconds from now,
// `{ "auth_time_offset": -3600 }` dates the login back (a provider that
// ignored `prompt=login`), `{ "garbage_discovery": true }` makes discovery
// answer broken JSON, `{ "userinfo_only": true }` leaves address and name
// out of the ID token (as providers do that release them only at the
// userinfo endpoint).
// `{}` resets. Nothing of this is in Nachweis itself.
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    redirect: { type: 'string', multiple: true },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const port = Number(args.port);
const issuer = `http://${args.host}:${port}`;
const redirects = args.redirect ?? [];

export const USERS = {
  'kunde@beispiel-kunde.example': { password: 'kunde-passwort', name: 'Karla Kunde', email_verified: true },
  'zweite@beispiel-kunde.example': { password: 'zweite-passwort', name: 'Zora Zweite', email_verified: true },
  'fremd@anderswo.example': { password: 'fremd-passwort', name: 'Fritz Fremd', email_verified: true },
  'unbestaetigt@beispiel-kunde.example': { password: 'unbestaetigt-passwort', name: 'Uwe Unbestätigt', email_verified: false },
  'leitung@conrat.example': { password: 'leitung-passwort', name: 'Lea Leitung', email_verified: true, groups: ['nachweis-admins'] },
  'mitarbeiter@conrat.example': { password: 'mitarbeiter-passwort', name: 'Max Mitarbeiter', email_verified: true },
  // The cross-organisation tests: an address that already has a password
  // account at Nachweis, and one whose provider sends no email_verified.
  'admin@opfer.example': { password: 'opfer-passwort', name: 'Olga Opfer', email_verified: true },
  'ohne-claim@opfer.example': { password: 'ohne-passwort', name: 'Otto Ohne' },
  // A second customer's people, for a second organisation's customer provider.
  'kunde@zweiter-kunde.example': { password: 'zweiter-passwort', name: 'Zacharias Zweiter', email_verified: true },
};

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const kid = 'test-key-1';
const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };

let tamper = {};

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'nachweis', client_secret: 'nachweis-secret', redirect_uris: redirects, grant_types: ['authorization_code'], response_types: ['code'] },
    { client_id: 'other-app', client_secret: 'other-secret', redirect_uris: redirects, grant_types: ['authorization_code'], response_types: ['code'] },
  ],
  jwks: { keys: [privateJwk] },
  cookies: { keys: ['nachweis-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const u = USERS[id];
    if (!u) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: u.email_verified, name: u.name, ...(u.groups ? { groups: u.groups } : {}) };
      },
    };
  },
});

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, hint, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP – sign in</title></head>
<body><main><h1>Test identity provider</h1>
${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">E-mail</label> <input id="login" name="login" value="${esc(hint ?? '')}" required>
<label for="password">Password</label> <input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form></main></body></html>`;
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper' && ctx.method === 'POST') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    tamper = JSON.parse(body || '{}');
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/.well-known/openid-configuration' && tamper.garbage_discovery) {
    ctx.type = 'application/json';
    ctx.body = '{"issuer": "' + issuer + '", "authorization_endpoint": [garbage';
    return;
  }
  const m = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (m) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (!m[2] && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, details.params.login_hint);
      return;
    }
    if (m[2] && ctx.method === 'POST') {
      const form = await readForm(ctx.req);
      const user = USERS[form.login];
      if (!user || user.password !== form.password) {
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = loginPage(details.uid, form.login, 'Wrong e-mail or password.');
        return;
      }
      // First-party test client: consent is implied.
      const grant = new provider.Grant({ accountId: form.login, clientId: details.params.client_id });
      grant.addOIDCScope(String(details.params.scope));
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
      const grantId = await grant.save();
      const redirectTo = await provider.interactionResult(ctx.req, ctx.res, {
        login: { accountId: form.login },
        consent: { grantId },
      }, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(redirectTo);
      return;
    }
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token
      && (tamper.aud || tamper.iss || tamper.nonce || tamper.exp_offset || tamper.auth_time_offset
        || tamper.userinfo_only)) {
    const claims = decodeJwt(ctx.body.id_token);
    const header = decodeProtectedHeader(ctx.body.id_token);
    if (tamper.aud) claims.aud = tamper.aud;
    if (tamper.iss) claims.iss = tamper.iss;
    if (tamper.nonce) claims.nonce = tamper.nonce;
    if (tamper.exp_offset) {
      const now = Math.floor(Date.now() / 1000);
      claims.exp = now + tamper.exp_offset;
      claims.iat = Math.min(claims.iat, claims.exp - 60);
    }
    if (tamper.auth_time_offset) {
      claims.auth_time = Math.floor(Date.now() / 1000) + tamper.auth_time_offset;
    }
    if (tamper.userinfo_only) {
      delete claims.email;
      delete claims.email_verified;
      delete claims.name;
    }
    delete claims.at_hash;
    ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader(header).sign(privateKey) };
  }
});

provider.listen(port, args.host, () => {
  console.log(`READY ${issuer}`);
});
void publicKey;
