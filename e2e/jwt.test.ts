// The JWT builder in real Chromium: template, live lint, signing with a non-extractable
// WebCrypto key, and decoding/verifying pasted tokens with exact failure codes.
import { mkdirSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { makeLabCredential, openHarness } from './harness.ts';

// Screens for people to look at; HARNESS_SCREENS moves them out of test-results.
const SCREENS = process.env.HARNESS_SCREENS ?? 'test-results/screens';

function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function openBuilder(page: Page): Promise<void> {
  await openHarness(page);
  await page.getByRole('link', { name: 'JWT builder' }).click();
  await expect(page.getByRole('heading', { name: 'JWT builder', level: 1 })).toBeVisible();
}

test('RFC 7523 assertion: lint flags a long lifetime, signing uses a key the browser will not export, verify finds tampering', async ({ page }) => {
  await openBuilder(page);
  const builder = page.getByRole('form', { name: 'Build and sign' });
  await builder.getByLabel('Template').selectOption({ label: 'RFC 7523 assertion grant' });
  await expect(builder.getByLabel('Algorithm (alg)')).toHaveValue('RS256');
  await builder.getByLabel('Client id (iss)').fill('acme-orders');
  await builder.getByLabel('Subject (sub)').fill('user-42');
  await expect(builder.getByLabel('Audience (aud: token endpoint)')).toHaveValue(/^https:\/\/localhost:\d+\/token$/);

  // The key: generated here, and WebCrypto itself refuses to export it.
  const key = builder.getByRole('region', { name: 'This browser’s signing key' });
  await expect(key).toHaveAttribute('data-extractable', 'false');
  await expect(key.getByTestId('key-extractable')).toHaveText('extractable: false');
  await expect(key).toContainText('This key never leaves this browser.');
  await key.getByRole('button', { name: 'Try to export the private key' }).click();
  await expect(key.getByTestId('export-result')).toContainText('refused by the browser: InvalidAccessError');

  // Lint before signing: an hour is too long for an assertion, and the finding clears when fixed.
  const lint = builder.getByRole('status', { name: 'Lint' });
  await builder.getByLabel('Lifetime (s)').fill('3600');
  const long = lint.locator('li[data-lint-code="lifetime_too_long"]');
  await expect(long).toContainText('Warning');
  await expect(long).toContainText('lives 60 min, longer than the 5 min servers commonly allow');
  await expect(lint.getByTestId('lint-code')).toHaveText(['lifetime_too_long']);
  await builder.getByLabel('Lifetime (s)').fill('120');
  await expect(long).toHaveCount(0);
  await expect(lint).toContainText('No findings');
  // The claims follow the template: aud is the token endpoint, exp two minutes after iat.
  const claims = JSON.parse(await builder.getByLabel('Claims (JSON)').inputValue()) as Record<string, unknown>;
  expect(claims).toMatchObject({ iss: 'acme-orders', sub: 'user-42' });
  expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  expect(typeof claims.jti).toBe('string');

  await builder.getByRole('button', { name: 'Sign', exact: true }).click();
  const signed = page.getByRole('region', { name: 'Signed JWT' });
  const token = (await signed.getByTestId('compact-jwt').textContent())!.trim();
  expect(token).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
  await expect(signed).toContainText("this browser's RS256 key (not extractable)");
  await expect(signed.getByTestId('decoded-header')).toContainText('"alg": "RS256"');
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, string>;
  expect(header.kid).toMatch(/^[\w-]{43}$/);
  await expect(signed.getByTestId('decoded-claims')).toContainText('"sub": "user-42"');

  // Verify with this browser's key: good.
  await signed.getByRole('button', { name: 'Verify it below' }).click();
  const verify = page.getByRole('region', { name: 'Decode & verify a JWT' });
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
  await expect(verify.getByTestId('verify-result')).toContainText("Signature verified with this browser's RS256 key");

  // Tampered claims keep the signature: the signature check names it.
  const [h, p, s] = token.split('.') as [string, string, string];
  const forged = { ...(JSON.parse(Buffer.from(p, 'base64url').toString()) as object), sub: 'admin' };
  await verify.getByLabel('JWT to check').fill(`${h}.${b64urlJson(forged)}.${s}`);
  await expect(verify.getByTestId('verify-code')).toHaveText('signature_invalid');
  await expect(verify.getByTestId('verify-result')).toContainText('Signature:');
  await expect(verify.getByTestId('decoded-claims')).toContainText('"sub": "admin"');

  // A JWKS without the token's kid: key not found, said as such.
  await verify.getByLabel('Verify with').selectOption({ label: 'JWK or JWKS (JSON)' });
  await verify.getByLabel('JWK or JWKS').fill('{"keys":[{"kty":"EC","crv":"P-256","kid":"other","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}');
  await expect(verify.getByTestId('verify-code')).toHaveText('key_not_found');

  // An expired token, verified with the right key: the claim is named.
  await verify.getByLabel('Verify with').selectOption({ label: "This browser's signing key" });
  await builder.getByLabel('Claims (JSON)').fill(JSON.stringify({ iss: 'acme-orders', sub: 'user-42', iat: 1_700_000_000, exp: 1_700_000_060 }));
  await expect(lint.locator('li[data-lint-code="exp_past"]')).toContainText('Error');
  await builder.getByRole('button', { name: /^Sign anyway/ }).click();
  await expect(signed.getByTestId('decoded-claims')).toContainText('1700000060');
  await verify.getByLabel('JWT to check').fill((await signed.getByTestId('compact-jwt').textContent())!.trim());
  await expect(verify.getByTestId('verify-code')).toHaveText('expired');
  await expect(verify.getByTestId('verify-result')).toContainText('Claim exp:');

  // A pasted non-JWT is named by its decode problem.
  await verify.getByLabel('JWT to check').fill('not.a-jwt');
  await expect(verify).toContainText('not_a_jwt: a JWT has three dot-separated parts; this has 2');
});

test('Ctrl+Enter signs; ES256 and EdDSA keys are made non-extractable too', async ({ page }) => {
  await openBuilder(page);
  const builder = page.getByRole('form', { name: 'Build and sign' });
  for (const alg of ['ES256', 'EdDSA'] as const) {
    await builder.getByLabel('Algorithm (alg)').selectOption(alg);
    await expect(builder.getByRole('region', { name: 'This browser’s signing key' })).toHaveAttribute('data-extractable', 'false');
    await builder.getByLabel('Claims (JSON)').focus();
    await page.keyboard.press('Control+Enter');
    const header = page.getByRole('region', { name: 'Signed JWT' }).getByTestId('decoded-header');
    await expect(header).toContainText(`"alg": "${alg}"`);
  }
});

test('x5c and x5t#S256 from a key-ring certificate verify through the token itself; HS256 with a masked shared secret', async ({ page }) => {
  await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-jwt-signer');
  await page.getByRole('link', { name: 'JWT builder' }).click();
  const builder = page.getByRole('form', { name: 'Build and sign' });
  await builder.getByLabel('Algorithm (alg)').selectOption('ES256');
  const option = builder.getByLabel('Signing key', { exact: true }).locator('option', { hasText: 'e2e-jwt-signer' });
  await builder.getByLabel('Signing key', { exact: true }).selectOption((await option.getAttribute('value'))!);
  await expect(builder).toContainText('Signs with the key of e2e-jwt-signer from the key ring');
  await builder.getByLabel('x5c (certificate chain)').check();
  await builder.getByLabel('x5t#S256 (thumbprint)').check();
  await builder.getByRole('button', { name: 'Sign', exact: true }).click();
  const signed = page.getByRole('region', { name: 'Signed JWT' });
  await expect(signed.getByTestId('decoded-header')).toContainText('"x5c": [');
  await expect(signed.getByTestId('decoded-header')).toContainText('"x5t#S256": "');
  const token = (await signed.getByTestId('compact-jwt').textContent())!.trim();
  const verify = page.getByRole('region', { name: 'Decode & verify a JWT' });
  await verify.getByLabel('JWT to check').fill(token);
  await verify.getByLabel('Verify with').selectOption({ label: "The token's own x5c certificate" });
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
  // The same certificate pasted as PEM verifies too; a JWKS key of another kid is not found.
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { x5c: string[] };
  await verify.getByLabel('Verify with').selectOption({ label: 'Public key or certificate (PEM)' });
  await verify.getByLabel('Public key or certificate (PEM)').fill(`-----BEGIN CERTIFICATE-----\n${header.x5c[0]}\n-----END CERTIFICATE-----`);
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');

  await builder.getByLabel('Algorithm (alg)').selectOption('HS256');
  const secret = builder.getByLabel('Shared secret', { exact: true });
  await expect(secret).toHaveAttribute('type', 'password');
  await secret.fill('short');
  await expect(builder).toContainText('shorter than 32 bytes');
  await secret.fill('a-shared-secret-of-at-least-32-bytes!');
  await builder.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(signed.getByTestId('decoded-header')).toContainText('"alg": "HS256"');
  await verify.getByLabel('JWT to check').fill((await signed.getByTestId('compact-jwt').textContent())!.trim());
  await verify.getByLabel('Verify with').selectOption({ label: 'Shared secret (HS256)' });
  await verify.getByLabel('Shared secret', { exact: true }).fill('another-secret-of-at-least-32-bytes!!');
  await expect(verify.getByTestId('verify-code')).toHaveText('signature_invalid');
  await verify.getByLabel('Shared secret', { exact: true }).fill('a-shared-secret-of-at-least-32-bytes!');
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`JWT builder at 1280×800 (${colorScheme})`, async ({ page }) => {
    mkdirSync(SCREENS, { recursive: true });
    await page.emulateMedia({ colorScheme });
    await openBuilder(page);
    const builder = page.getByRole('form', { name: 'Build and sign' });
    await expect(builder.getByRole('region', { name: 'This browser’s signing key' })).toBeVisible();
    await builder.getByLabel('Lifetime (s)').fill('3600');
    await page.mouse.move(1270, 790);
    await page.screenshot({ path: `${SCREENS}/jwt-builder-${colorScheme}.png` });
    await builder.getByLabel('Lifetime (s)').fill('120');
    await builder.getByRole('button', { name: 'Sign', exact: true }).click();
    await page.getByRole('region', { name: 'Signed JWT' }).getByRole('button', { name: 'Verify it below' }).click();
    await expect(page.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
    await page.getByRole('heading', { name: 'Signed JWT' }).scrollIntoViewIfNeeded();
    await page.evaluate(`document.querySelector('main').scrollBy(0, document.querySelector('.signed').getBoundingClientRect().top - 64)`);
    await page.screenshot({ path: `${SCREENS}/jwt-signed-${colorScheme}.png` });
    const overflow = await page.evaluate(`[...document.querySelectorAll('body, main, .card')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className)`);
    expect(overflow).toEqual([]);
  });
}
