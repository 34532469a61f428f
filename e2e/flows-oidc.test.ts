// Authorization code + PKCE + refresh against oidc-provider (a certified OpenID provider),
// driven through the app's form and the real popup: the provider runs here on loopback over
// HTTPS with a throwaway PKI, its sign-in pages consent by themselves, and its redirect lands
// on the relay's /callback/<key> as registered.
import { autoConsent } from '../server/flows/testing/oidc-consent.ts';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test, expect } from '@playwright/test';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { makeTestPki, type TestPki } from '../server/testing/test-pki.ts';
import { expectTimelineMatchesEvents, openHarness, relayOrigin, verdictOf } from './harness.ts';
import { findStep } from '../shared/protocol/index.ts';

const REDIRECT_KEY = 'oidc-e2e';
const API_SCOPE = 'api:read';

let pki: TestPki;
let server: https.Server;
let issuer: string;


test.beforeAll(async () => {
  pki = await makeTestPki();
  const key = await generateKeyPair('RS256', { extractable: true });
  const signing = { ...(await exportJWK(key.privateKey)), kid: 'op-e2e', alg: 'RS256', use: 'sig' };
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => handler(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  const api = `${issuer}/api`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'web-e2e',
        client_secret: 'web-e2e-secret',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${relayOrigin()}/callback/${REDIRECT_KEY}`],
      },
    ],
    jwks: { keys: [signing] },
    cookies: { keys: ['harness-e2e-cookie-key'] },
    scopes: ['openid', 'offline_access', API_SCOPE],
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => api,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: API_SCOPE, audience: api, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
  });
  const callback = provider.callback();
  handler = (req, res) => {
    if ((req.url ?? '').startsWith('/interaction/')) autoConsent(provider, req, res).catch(() => res.writeHead(500).end());
    else callback(req, res);
  };
});

test.afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
});

// The provider's pages use the throwaway PKI's server certificate; the relay is told to trust
// its CA through the form, the popup through the browser context.
test.use({ ignoreHTTPSErrors: true });

test('oidc-provider: authorization code + PKCE + state + refresh through the form and the popup', async ({ page }) => {
  const frames = await openHarness(page);
  await page.getByRole('link', { name: 'Token flows' }).click();
  await page.getByRole('radio', { name: 'Auth code + PKCE', exact: true }).check();
  const form = page.getByRole('form', { name: 'Auth code + PKCE flow' });
  await form.getByLabel('Issuer', { exact: true }).fill(issuer);
  await form.getByLabel('Method', { exact: true }).selectOption('client_secret_basic');
  await form.getByLabel('Client id', { exact: true }).fill('web-e2e');
  await form.getByLabel('Client secret', { exact: true }).fill('web-e2e-secret');
  await form.getByLabel('Redirect key (optional)').fill(REDIRECT_KEY);
  await expect(form).toContainText(`Redirect URI: ${relayOrigin()}/callback/${REDIRECT_KEY}`);
  await form.getByLabel('Extra authorization parameters').fill('prompt=consent');
  await form.getByLabel('Scope (optional)').fill(`openid offline_access ${API_SCOPE}`);
  await form.getByLabel('Then call this API with the token (optional)').fill('');
  await form.getByRole('button', { name: /Extra parameters, JWKS, TLS/ }).click();
  await form.getByLabel('CA bundle for the server (PEM, optional)').fill(pki.serverCa.cert);

  const popupOpened = page.waitForEvent('popup');
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  const popup = await popupOpened;
  expect(await verdictOf(page)).toBe('pass');
  const runId = frames.runIds().at(-1)!;
  const steps = await expectTimelineMatchesEvents(page, frames, runId);
  const authorizationUrl = new URL(String(findStep(steps, 'authorize')?.details?.authorizationUrl));
  expect(authorizationUrl.origin).toBe(issuer);
  expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(`${relayOrigin()}/callback/${REDIRECT_KEY}`);
  expect(findStep(steps, 'callback')?.details?.iss).toBe(issuer);
  expect(findStep(steps, 'callback')?.details?.stateReturned).toBe(findStep(steps, 'authorize')?.details?.state);
  expect(findStep(steps, 'token')?.details?.refreshTokenIssued).toBe(true);
  expect(steps.find((s) => s.id === 'refresh')?.status).toBe('ok');
  await expect(page.locator('li[data-step="refresh"]')).toContainText('OK');
  await expect(page.locator('li[data-step="token"]')).toContainText('verified');
  await expect.poll(() => popup.isClosed()).toBe(true);
});
