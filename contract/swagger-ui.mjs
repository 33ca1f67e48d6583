// Swagger UI, in a real headless Chromium: every tag and operation of the spec is listed,
// "Authorize" takes a bearer token, and "Try it out" on GET /v1/me answers 200 with the
// user's email; then "Authorize" takes an API key instead, and GET /v1/me answers the key.
// Usage: node swagger-ui.mjs <base-url> <token> <email> <screenshot-path> <api-key> <api-key-id>
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [baseUrl, token, email, screenshot, apiKey, apiKeyId] = process.argv.slice(2);
const fail = (message) => {
  console.error(`FAIL: ${message}`);
  process.exit(1);
};
const ok = (message) => console.log(`ok - ${message}`);

const spec = await (await fetch(`${baseUrl}/openapi.json`)).json();
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tenantry-ui-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const offline = [];
try {
  const page = await context.newPage();
  // Swagger UI must work offline: any request leaving the service is a failure.
  page.on('request', (request) => {
    if (!request.url().startsWith(baseUrl) && !request.url().startsWith('data:')) {
      offline.push(request.url());
    }
  });
  await page.goto(`${baseUrl}/docs`, { waitUntil: 'load' });
  await page.waitForSelector('.opblock', { timeout: 20000 });

  for (const tag of spec.tags.map((t) => t.name)) {
    if (await page.locator(`[data-tag="${tag}"]`).count() === 0) fail(`tag ${tag} is not listed`);
  }
  ok(`all ${spec.tags.length} tags are listed`);
  let operations = 0;
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const id = `operations-${operation.tags[0]}-${operation.operationId}`;
      if (await page.locator(`[id="${id}"]`).count() === 0) fail(`${method.toUpperCase()} ${path} (${id}) is not listed`);
      operations += 1;
    }
  }
  ok(`all ${operations} operations are listed`);

  await page.click('button.authorize');
  await page.fill('.modal-ux .auth-container input', token);
  await page.click('.modal-ux .auth-btn-wrapper button.authorize');
  await page.click('.modal-ux button.btn-done');
  ok('authorized with a bearer token');

  const me = page.locator('[id="operations-Me-getMe"]');
  await me.locator('.opblock-summary').click();
  await me.locator('button.try-out__btn').click();
  await me.locator('button.execute').click();
  const status = me.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 20000 });
  const code = (await status.innerText()).trim();
  if (code !== '200') fail(`Try it out on GET /v1/me answered ${code}`);
  const body = await me.locator('.live-responses-table tbody .response-col_description').first().innerText();
  if (!body.includes(email)) fail(`the response does not show ${email}`);
  ok(`Try it out on GET /v1/me answered 200 with ${email}`);

  // The same bearer scheme takes an API key.
  await page.click('button.authorize');
  await page.locator('.modal-ux .auth-btn-wrapper button', { hasText: 'Logout' }).click();
  await page.fill('.modal-ux .auth-container input', apiKey);
  await page.click('.modal-ux .auth-btn-wrapper button.authorize');
  await page.click('.modal-ux button.btn-done');
  ok('authorized with an API key');
  await me.locator('button.execute').click();
  await page.waitForFunction(
    (id) => [...document.querySelectorAll('[id="operations-Me-getMe"] .live-responses-table tbody .response-col_description')]
      .some((cell) => cell.innerText.includes(id)),
    apiKeyId, { timeout: 20000 });
  const keyCode = (await status.innerText()).trim();
  if (keyCode !== '200') fail(`Try it out on GET /v1/me with the key answered ${keyCode}`);
  const keyBody = await me.locator('.live-responses-table tbody .response-col_description').first().innerText();
  if (!keyBody.includes('api_key')) fail('the response does not show the key');
  ok(`Try it out on GET /v1/me with the API key answered 200 with the key ${apiKeyId}`);

  await page.screenshot({ path: screenshot, fullPage: false });
  ok(`screenshot saved to ${screenshot}`);
  if (offline.length > 0) fail(`Swagger UI fetched from outside the service: ${offline.join(', ')}`);
  ok('Swagger UI loaded nothing from outside the service');
} finally {
  await context.close();
}
