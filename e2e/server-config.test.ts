// The server config screen shows exactly what shared/server-config.ts generates for the inputs
// on screen (the generator itself is checked against real Apache and nginx elsewhere).
import { mkdirSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { apacheSnippet, nginxSnippet, serverConfigSnippets, type ServerConfigInput } from '../shared/server-config.ts';
import { makeLabCredential, openHarness, relayOrigin } from './harness.ts';

const SCREENS = 'test-results/screens';

test('a CN rule gives the Apache and nginx snippets the generator makes, with the depth difference explained', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: relayOrigin() });
  const frames = await openHarness(page);
  await makeLabCredential(page, 'P-256', 'cxml-supplier.coupahost.com');
  await page.getByRole('link', { name: 'Server config' }).click();
  await expect(page.getByRole('heading', { name: 'Server config', level: 1 })).toBeVisible();

  // The lab's client CA is the default bundle; a root alone needs depth 1.
  const lab = frames.messages.find((m) => m.type === 'welcome')?.relay.lab;
  const bundle = page.getByRole('list', { name: 'Certificates in the bundle' });
  await expect(bundle).toContainText(lab!.caSubject);
  await expect(bundle).toContainText('root (self-signed)');
  await expect(page.getByLabel('Verify depth')).toHaveValue('1');
  // The key ring's certificate offers its issuers as a bundle too.
  await page.getByLabel('Take it from').selectOption({ label: `Issuers of cxml-supplier.coupahost.com (the lab CA)` });
  await expect(bundle).toContainText(lab!.caSubject);

  await page.getByLabel('Take the CN from a key-ring certificate').selectOption({ label: 'cxml-supplier.coupahost.com' });
  await expect(page.getByLabel('Subject CN must equal')).toHaveValue('cxml-supplier.coupahost.com');
  await page.getByLabel('Verify depth').fill('3');
  await page.getByLabel('Server name').fill('supplier.example.com');
  await page.getByLabel('Port').fill('8443');
  await page.getByLabel('Check revocation with a CRL file').check();

  const input: ServerConfigInput = {
    caBundleFile: '/etc/ssl/client-ca.pem',
    verifyDepth: 3,
    crlFile: '/etc/ssl/client-ca-crl.pem',
    rule: { cnEquals: 'cxml-supplier.coupahost.com' },
    serverName: 'supplier.example.com',
    certFile: '/etc/ssl/certs/supplier.example.com.pem',
    keyFile: '/etc/ssl/private/supplier.example.com.key',
    port: 8443,
  };
  const apache = page.getByTestId('apache-snippet').locator('pre');
  const nginx = page.getByTestId('nginx-snippet').locator('pre');
  await expect(apache).toHaveText(apacheSnippet(input), { useInnerText: true });
  await expect(nginx).toHaveText(nginxSnippet(input), { useInnerText: true });
  expect(await apache.textContent()).toBe(apacheSnippet(input));
  expect(await nginx.textContent()).toBe(nginxSnippet(input));
  await expect(apache).toContainText('SSLVerifyClient require');
  await expect(apache).toContainText('Require expr %{SSL_CLIENT_S_DN_CN} == "cxml-supplier.coupahost.com"');
  await expect(apache).toContainText('SSLVerifyDepth 3');
  await expect(nginx).toContainText('ssl_verify_client on;');
  await expect(nginx).toContainText('ssl_verify_depth 2;');
  await expect(page.getByTestId('depth-explained')).toContainText('SSLVerifyDepth 3');
  await expect(page.getByTestId('depth-explained')).toContainText('ssl_verify_depth is 2');

  await page.getByRole('button', { name: 'Copy Apache config' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(apacheSnippet(input));
  await page.getByRole('button', { name: 'Copy nginx config' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(nginxSnippet(input));

  mkdirSync(SCREENS, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.mouse.move(1270, 790);
    await page.evaluate(`document.querySelector('main').scrollTo(0, 0)`);
    await page.screenshot({ path: `${SCREENS}/server-config-${colorScheme}.png` });
    await page.evaluate(`document.querySelector('main').scrollTo(0, document.querySelector('[data-testid="apache-snippet"]').offsetTop - 80)`);
    await page.screenshot({ path: `${SCREENS}/server-config-snippets-${colorScheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });

  // A SAN rule: nginx cannot check it, and the screen says so in the generator's words.
  await page.getByLabel('Subject Alternative Name (DNS) must equal').fill('cxml-supplier.coupahost.com');
  const withSan = { ...input, rule: { ...input.rule, sanDnsEquals: 'cxml-supplier.coupahost.com' } };
  const [note] = serverConfigSnippets(withSan).notes;
  await expect(page.getByTestId('generator-note')).toHaveText(`Note: ${note}`);
  expect(await apache.textContent()).toBe(apacheSnippet(withSan));
  expect(await nginx.textContent()).toBe(nginxSnippet(withSan));

  // Input the generator refuses is named, not turned into a broken config.
  await page.getByLabel('Subject CN must equal').fill('bad"name');
  await expect(page.getByRole('alert')).toContainText('The CN must not contain a double quote.');
  await expect(page.getByTestId('apache-snippet')).toHaveCount(0);
  await expect(page.getByLabel('Subject CN must equal')).toHaveAttribute('aria-invalid', 'true');
});
