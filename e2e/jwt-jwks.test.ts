// Decode & verify with a key set the relay fetches: the lab issuer's JWKS is offered, its keys
// are listed, a token the page signed is not among them (key_not_found), a token the lab
// issued verifies, and a URL that is not a key set is answered with the relay's reason.
import https from 'node:https';
import { mkdirSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { openHarness } from './harness.ts';

// Screens for people to look at; HARNESS_SCREENS moves them out of test-results.
const SCREENS = process.env.HARNESS_SCREENS ?? 'test-results/screens';

/** A client_credentials access token from the lab, asked for from this test process. */
function labAccessToken(tokenUrl: string, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(tokenUrl, {
      method: 'POST',
      ca: caPem,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('lab-basic:lab-basic-secret').toString('base64')}` },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => {
        const token = (JSON.parse(body) as { access_token?: string }).access_token;
        if (res.statusCode === 200 && token) resolve(token);
        else reject(new Error(`the lab token endpoint answered ${res.statusCode}: ${body}`));
      });
    });
    req.on('error', reject);
    req.end('grant_type=client_credentials');
  });
}

test('JWKS URL: the lab key set is fetched through the relay; a page-signed token is key_not_found, a lab-issued one verifies', async ({ page }) => {
  const frames = await openHarness(page);
  const lab = frames.messages.find((m) => m.type === 'welcome')?.relay.lab;
  expect(lab).toBeTruthy();
  const issuer = lab!.targets.find((t) => t.id === 'issuer')!.url;
  const tokenUrl = lab!.targets.find((t) => t.id === 'token')!.url;

  await page.getByRole('link', { name: 'JWT builder' }).click();
  const builder = page.getByRole('form', { name: 'Build and sign' });
  await builder.getByRole('button', { name: 'Sign', exact: true }).click();
  const signed = page.getByRole('region', { name: 'Signed JWT' });
  const pageToken = (await signed.getByTestId('compact-jwt').textContent())!.trim();

  const verify = page.getByRole('region', { name: 'Decode & verify a JWT' });
  await verify.getByLabel('JWT to check').fill(pageToken);
  await verify.getByLabel('Verify with').selectOption({ label: 'JWKS URL (fetched by the relay)' });
  await expect(verify.getByLabel('JWKS URL')).toHaveValue(`${issuer}/jwks`);
  // Nothing fetched yet: the result says what to do, with the code.
  await expect(verify.getByTestId('verify-code')).toHaveText('key_not_found');
  await expect(verify.getByTestId('verify-result')).toContainText(`Fetch the key set from ${issuer}/jwks first.`);

  await verify.getByRole('button', { name: 'Fetch', exact: true }).click();
  const keys = verify.getByRole('list', { name: 'Fetched keys' }).getByTestId('fetched-key');
  await expect(keys).toHaveCount(1);
  await expect(keys.first()).toContainText('RSA · use sig');
  const fetched = frames.messages.find((m) => m.type === 'jwks.fetched');
  expect(fetched?.type === 'jwks.fetched' && fetched.keys.every((k) => k.d === undefined)).toBe(true);
  await expect(keys.first()).toContainText(fetched?.type === 'jwks.fetched' ? String(fetched.keys[0]!.kid) : '(missing)');
  // The page's own key is not in the lab's set: found by kid or not at all.
  await expect(verify.getByTestId('verify-code')).toHaveText('key_not_found');
  await expect(verify.getByTestId('verify-result')).toContainText('no key in the JWKS matches the token (kid/alg/kty)');

  // A token the lab issued carries the kid of the fetched key and verifies with it.
  const labToken = await labAccessToken(tokenUrl, lab!.serverCaPem);
  await verify.getByLabel('JWT to check').fill(labToken);
  await verify.getByLabel('Expected iss (optional)').fill(issuer);
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
  await expect(verify.getByTestId('verify-result')).toContainText(`Signature verified with the JWKS fetched from ${issuer}/jwks (1 key)`);
  mkdirSync(SCREENS, { recursive: true });
  await verify.screenshot({ path: `${SCREENS}/jwt-verify-jwks-url.png` });

  // A URL that answers, but not with a key set: the relay's reason is shown, and nothing verifies.
  await verify.getByLabel('JWKS URL').fill(tokenUrl);
  await verify.getByRole('button', { name: 'Fetch', exact: true }).click();
  await expect(verify).toContainText(/answered HTTP 405 \(content-type application\/json\); a key set is served with 200 \(jwks_fetch_failed\)/);
  await expect(verify.getByRole('list', { name: 'Fetched keys' })).toHaveCount(0);
  await expect(verify.getByTestId('verify-code')).toHaveText('key_not_found');
});
