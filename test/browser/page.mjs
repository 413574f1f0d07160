// The product image page in Debian's chromium (issue 15): log in, upload
// through the file chooser, see the thumbnail, replace it, edit the
// Description and read it back over the API, delete, see the placeholder,
// see the refusal of a PDF; no page error, no CSP violation, no console
// error but the browser's own lines for expected 4xx answers.  Screenshots
// of each step go to $SHOTS.  Prints "ok NAME" or "FAIL: NAME ..." per check.
import puppeteer from 'puppeteer-core';

const { GATEWAY, CHROMIUM, PROFILE, SHOTS, PNG, JPG, PDF, USER, PASSWORD } = process.env;
let failed = 0;
const check = (name, cond, detail = '') => {
  if (cond) console.log(`ok ${name}`);
  else { failed++; console.log(`FAIL: ${name} ${detail}`); }
};
const problems = [];
const timings = [];
const browser = await puppeteer.launch({
  executablePath: CHROMIUM || '/usr/bin/chromium',
  headless: true,
  userDataDir: PROFILE,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
});
const page = await browser.newPage();
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  const text = m.text();
  // the browser's own line for an answer we expect to be 4xx (no image, a refused upload)
  if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) {
    problems.push(`console ${m.type()}: ${text}`);
  }
});
// DevTools reports a fetch answered 204 No Content as aborted once it is done: not a failure
const answered = new Map();
page.on('response', (r) => answered.set(r.request(), r.status()));
page.on('requestfailed', (r) => {
  if (answered.get(r) === 204 && r.failure()?.errorText === 'net::ERR_ABORTED') return;
  problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
});
await page.setViewport({ width: 1000, height: 900 });
let n = 0;
const step = async (name, fn) => {
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    check(name, false, e.message);
  }
  timings.push(`${name} ${Date.now() - t0} ms`);
  await page.screenshot({ path: `${SHOTS}/${String(++n).padStart(2, '0')}-${name}.png` });
};
// the control the label "Upload image" names (a file input's accessible name also says which file)
const uploadInput = async () => {
  const input = await page.waitForSelector('input[type="file"]');
  const label = await input.evaluate((i) => [...i.labels].map((l) => l.textContent.trim()).join(' '));
  if (label !== 'Upload image') throw new Error(`the file input is labelled "${label}"`);
  return input;
};
const thumb = (id) => page.$eval(`#grid button[data-id="${id}"] img`, (i) => i.getAttribute('src'));
// the thumbnail of id has another URL than before, and has loaded
const newThumb = async (id, before) => {
  await page.waitForFunction((i, b) => {
    const img = document.querySelector(`#grid button[data-id="${i}"] img`);
    return img.getAttribute('src') !== b;
  }, { timeout: 10000 }, id, before);
  await loaded(id);
};
const loaded = (id) => page.waitForFunction((i) => {
  const img = document.querySelector(`#grid button[data-id="${i}"] img`);
  return img && img.complete && img.naturalWidth > 0;
}, { timeout: 10000 }, id);

try {
  await step('login_form', async () => {
    await page.goto(`${GATEWAY}/`, { waitUntil: 'networkidle0' });
    check('login_form_shown', await page.$eval('#login', (f) => !f.hidden));
  });
  await step('logged_in', async () => {
    await (await page.waitForSelector('::-p-aria(Username)')).type(USER);
    await (await page.waitForSelector('::-p-aria(Password)')).type(PASSWORD);
    await (await page.waitForSelector('::-p-aria([name="Log in"][role="button"])')).click();
    await page.waitForFunction(() => document.getElementById('who').textContent.startsWith('Logged in as'),
      { timeout: 10000 });
    check('login_form_gone', await page.$eval('#login', (f) => f.hidden));
    check('grid_1_to_24', (await page.$$('#grid li')).length === 24);
    await loaded(5);
  });
  await step('opened', async () => {
    await page.click('#grid button[data-id="5"]');
    await page.waitForSelector('#no-image:not([hidden])', { timeout: 10000 });
    check('opened_no_image', true);
  });
  let first;
  await step('uploaded', async () => {
    const before = await thumb(5);
    const input = await uploadInput();
    await input.uploadFile(PNG);
    await newThumb(5, before);
    first = await thumb(5);
    check('thumbnail_named_by_v', /[?&]v=[0-9a-f]{16}/.test(first), first);
    check('facts_shown', (await page.$eval('#facts', (d) => d.textContent)).includes('png'));
  });
  await step('replaced', async () => {
    const input = await uploadInput();
    await input.uploadFile(JPG);
    await newThumb(5, first);
    check('replaced_new_thumbnail', (await thumb(5)) !== first);
    check('replaced_format', (await page.$eval('#facts', (d) => d.textContent)).includes('jpeg'));
  });
  await step('described', async () => {
    const field = await page.$('::-p-aria(Description)');
    await field.click({ clickCount: 3 });
    await field.type('Red bicycle, front');
    await (await page.$('::-p-aria([name="Save"][role="button"])')).click();
    await page.waitForFunction(() => document.querySelector('[role="status"]').textContent === 'Saved',
      { timeout: 5000 });
    const info = await page.evaluate(async () => (await fetch('/api/v1/Product/5/ImageInfo')).json());
    check('description_read_back', info.Description === 'Red bicycle, front', JSON.stringify(info));
  });
  await step('refused_pdf', async () => {
    const input = await uploadInput();
    await input.uploadFile(PDF);
    await page.waitForSelector('[role="alert"]:not([hidden])', { timeout: 10000 });
    const text = await page.$eval('[role="alert"]', (a) => a.textContent);
    check('refusal_message', /PDF/i.test(text), text);
  });
  await step('refused_bomb', async () => {
    const input = await uploadInput();
    await input.uploadFile(process.env.BOMB);
    await page.waitForFunction(() => !/PDF/.test(document.querySelector('[role="alert"]').textContent)
      && document.querySelector('[role="alert"]').textContent !== '', { timeout: 10000 });
    const text = await page.$eval('[role="alert"]', (a) => a.textContent);
    check('refusal_pixel_bomb', /pixel|large/i.test(text), text);
  });
  await step('deleted', async () => {
    await (await page.$('::-p-aria([name="Delete"][role="button"])')).click();
    await page.waitForSelector('#no-image:not([hidden])', { timeout: 10000 });
    await loaded(5);
    const src = await thumb(5);
    check('deleted_placeholder', src.includes('ifBlank=SrNoPhoto') && !/v=[0-9a-f]{16}/.test(src), src);
    const status = await page.evaluate(async () => (await fetch('/api/v1/Product/5/ImageInfo')).status);
    check('deleted_for_the_api', status === 404, status);
  });
  await step('range_from_url', async () => {
    await page.goto(`${GATEWAY}/?from=25&to=48`, { waitUntil: 'networkidle0' });
    const ids = await page.$$eval('#grid button', (b) => b.map((x) => Number(x.dataset.id)));
    check('range_25_to_48', ids.length === 24 && ids[0] === 25 && ids[23] === 48, ids.join(','));
  });
  await step('phone', async () => {
    await page.setViewport({ width: 375, height: 800 });
    await page.reload({ waitUntil: 'networkidle0' });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check('no_horizontal_scroll_at_375', wide <= 375, wide);
  });
  await step('keyboard', async () => {
    await page.focus('#grid button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#product:not([hidden])', { timeout: 5000 });
    await page.keyboard.press('Escape');
    check('keyboard_open_close', await page.$eval('#product', (p) => p.hidden));
  });
} finally {
  check('no_page_or_console_errors', problems.length === 0, problems.join(' | '));
  await browser.close();
}
console.log(`timings: ${timings.join(', ')}`);
console.log(`page: ${failed} failed`);
process.exit(failed ? 1 : 0);
