// Browser checks of the gateway (issue 14): Debian's chromium driven by
// puppeteer-core.  A page on a listed origin (CORS) calls the gateway with
// fetch: preflights, exposed headers, Bearer and SoTicket writes, the
// session cookie and its XSRF token; a page on another site posts an HTML
// form (CSRF).  Prints "ok NAME" or "FAIL: NAME ..." per check.
import puppeteer from 'puppeteer-core';

const { GATEWAY, LISTED, OTHER, BEARER, CHROMIUM, PROFILE } = process.env;
let failed = 0;
const check = (name, cond, detail = '') => {
  if (cond) console.log(`ok ${name}`);
  else { failed++; console.log(`FAIL: ${name} ${detail}`); }
};

const browser = await puppeteer.launch({
  executablePath: CHROMIUM || '/usr/bin/chromium',
  headless: true,
  userDataDir: PROFILE,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${LISTED}/index.html`);
  const r = await page.evaluate(async (gw, bearer) => {
    const out = {};
    const png = await (await fetch('/rgb.png')).blob();
    // a cross-origin read: the status, and the exposed headers
    let res = await fetch(`${gw}/api/v1/Product/60/ImageInfo`);
    out.read404 = res.status;
    out.read404Lang = res.headers.get('Content-Language');
    // a PUT with a Bearer token: preflighted (Authorization, a non-simple method)
    res = await fetch(`${gw}/api/v1/Product/60/Image`, {
      method: 'PUT', body: png, headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'image/png' } });
    out.bearerPut = res.status;
    out.bearerPutBody = await res.text();
    res = await fetch(`${gw}/api/v1/Product/60/Image`);
    out.getStatus = res.status;
    out.etag = res.headers.get('ETag');
    out.lastModified = res.headers.get('Last-Modified');
    out.cacheControl = res.headers.get('Cache-Control');
    // a revalidation the browser makes by itself
    res = await fetch(`${gw}/api/v1/Product/60/Image`, { headers: { 'If-None-Match': out.etag } });
    out.revalidated = res.status;
    // a range, with the exposed Content-Range
    res = await fetch(`${gw}/api/v1/Product/60/Image`, { headers: { Range: 'bytes=0-9' } });
    out.range = res.status;
    out.contentRange = res.headers.get('Content-Range');
    // log in with the session: the cookie is the gateway's, the ticket the page's
    res = await fetch(`${gw}/api/v1/Session`, {
      method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'pi_basic_user', password: 'basic-pass' }) });
    out.login = res.status;
    const login = await res.json();
    out.role = login.role;
    // the cookie goes along with credentials: 'include'
    res = await fetch(`${gw}/api/v1/Product/60/ImageInfo`, { credentials: 'include' });
    out.cookieRead = res.status;
    out.cookieReadBody = await res.text();
    // a cookie write without the XSRF token: refused
    res = await fetch(`${gw}/api/v1/Product/61/Image`, { method: 'PUT', body: png, credentials: 'include' });
    out.cookieWriteNoToken = res.status;
    // the ticket, carried explicitly
    res = await fetch(`${gw}/api/v1/Product/61/Image`, {
      method: 'PUT', body: png, headers: { Authorization: `SoTicket ${login.ticket}` } });
    out.ticketWrite = res.status;
    // log out with the ticket: the session is gone for the cookie too
    res = await fetch(`${gw}/api/v1/Session`, {
      method: 'DELETE', headers: { Authorization: `SoTicket ${login.ticket}` } });
    out.logout = res.status;
    res = await fetch(`${gw}/api/v1/Product/60/ImageInfo`, { credentials: 'include' });
    out.afterLogout = res.status;
    return out;
  }, GATEWAY, BEARER);
  check('cors_read_status', r.read404 === 404, JSON.stringify(r));
  check('cors_exposes_content_language', r.read404Lang === 'en', r.read404Lang);
  check('cors_preflighted_bearer_put', r.bearerPut === 200 && /^\d+$/.test(r.bearerPutBody), `${r.bearerPut} ${r.bearerPutBody}`);
  check('cors_get', r.getStatus === 200);
  check('cors_exposes_etag', /^"[0-9a-f]{64}"$/.test(r.etag || ''), r.etag);
  check('cors_exposes_last_modified', !!r.lastModified, r.lastModified);
  check('cors_no_cache', r.cacheControl === 'no-cache', r.cacheControl);
  check('cors_revalidation_304', r.revalidated === 304, r.revalidated);
  check('cors_range', r.range === 206 && r.contentRange && r.contentRange.startsWith('bytes 0-9/'), `${r.range} ${r.contentRange}`);
  check('session_login', r.login === 200 && r.role === 'pi_basic_user', `${r.login} ${r.role}`);
  check('session_cookie_read', r.cookieRead === 200 && r.cookieReadBody.includes('"BlobId"'), `${r.cookieRead}`);
  check('session_cookie_write_needs_token', r.cookieWriteNoToken === 403, r.cookieWriteNoToken);
  check('session_ticket_write', r.ticketWrite === 200, r.ticketWrite);
  check('session_logout', r.logout === 204, r.logout);
  check('session_cookie_after_logout', r.afterLogout === 401, r.afterLogout);

  // the page with an anonymous writer: no login needed (a fresh profile: the
  // cookie of the session ended above would be a 401, and rightly so)
  const fresh = await browser.createBrowserContext();
  const own = await fresh.newPage();
  await own.goto(`${GATEWAY}/`, { waitUntil: 'networkidle0' });
  check('page_anonymous_writer_no_login', await own.$eval('#login', (f) => f.hidden)
    && await own.$eval('#catalogue', (c) => !c.hidden));
  await fresh.close();

  // another site posts a form to the gateway (the anonymous role may write): refused
  const evil = await browser.newPage();
  await evil.goto(`${OTHER}/index.html`);
  const input = await evil.$('#file');
  await input.uploadFile(process.env.IMAGE);
  await evil.evaluate((gw) => { document.getElementById('evil').action = `${gw}/api/v1/Product/62/Image`; }, GATEWAY);
  const [nav] = await Promise.all([
    evil.waitForNavigation({ waitUntil: 'load' }),
    evil.evaluate(() => document.getElementById('evil').submit()),
  ]);
  check('csrf_form_refused', nav && nav.status() === 403, nav ? nav.status() : 'no response');
  check('csrf_form_says_why', (await evil.content()).includes('another site'));
} finally {
  await browser.close();
}
console.log(`browser: ${failed} failed`);
process.exit(failed ? 1 : 0);
