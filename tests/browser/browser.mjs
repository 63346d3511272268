// browser.mjs -- what the browser tests share: Debian's chromium driven by
// playwright-core, a Loupe server that serves the UI (tests/api/harness.mjs
// starts it), users who can log in, and helpers that wait for the page.
//
//   const srv = await startUiServer();
//   browserTest('name', async ({ page, log }) => { await login(page, srv, email, pw); ... });
//
// Each browserTest gets a new browser context (no cookies shared between
// tests).  A test fails when the page threw an uncaught exception; on a
// failure the page is saved to build/screenshots/failed-NAME.png and the
// error carries the page's URL, visible text and last requests.
//
// LOUPE_CHROMIUM (default /usr/bin/chromium) is the browser;
// LOUPE_BROWSER_WEB_DIR serves the UI from that directory (--web-dir)
// instead of web/ beside the binary.
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, it, expectStatus, cliKey, SLOW } from '../api/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const CHROMIUM = process.env.LOUPE_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(ROOT, 'build', 'screenshots');
/* How long a wait for the page lasts before the test fails. */
export const WAIT_MS = 10000 * SLOW;

let browserP = null;

/* Launches chromium once per test file (headless, no sandbox: tests run as
 * root).  closeBrowser() in the file's after hook. */
export function launchBrowser() {
  if (!browserP) {
    browserP = (async () => {
      assert.ok(fs.existsSync(CHROMIUM), `no chromium at ${CHROMIUM} (make test-deps installs Debian's chromium)`);
      const { chromium } = await import('playwright-core');
      return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30000 * SLOW,
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-extensions'],
      });
    })();
  }
  return browserP;
}

export async function closeBrowser() {
  if (!browserP) return;
  const p = browserP;
  browserP = null;
  const b = await p.catch(() => null);
  await b?.close();
}

/* The password of the users the browser tests make. */
export const PASSWORD = 'a-long-password-1';

/* One UI server for the test file: started before its tests (set(srv)
 * gets it), stopped with the browser after them. */
export function serveUi(set, opts = {}) {
  let srv = null;
  before(async () => {
    srv = await startUiServer(opts);
    set(srv);
  });
  after(async () => {
    await closeBrowser();
    await srv?.stop();
  });
}

/* Starts loupe (harness.startServer) and checks that it serves the UI. */
export async function startUiServer(opts = {}) {
  const webDir = process.env.LOUPE_BROWSER_WEB_DIR;
  const srv = await startServer({ ...opts, args: [...(webDir ? ['--web-dir', path.resolve(webDir)] : []), ...(opts.args ?? [])] });
  const r = await fetch(srv.base + '/');
  const text = await r.text();
  if (r.status !== 200 || !/text\/html/.test(r.headers.get('content-type') || '')) {
    await srv.stop().catch(() => {});
    assert.fail(`GET / answered ${r.status} ${r.headers.get('content-type')} instead of the UI's index.html: ${text.slice(0, 300)}`);
  }
  return srv;
}

/* Creates a member with a password, makes them an annotator of each
 * project, and gives them an API key too.  Returns the user plus
 * {password, key}. */
export async function makeAnnotator(srv, email, password, projectIds = []) {
  const u = expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', name: email.split('@')[0], password }), 201);
  for (const p of projectIds) expectStatus(await srv.api('PUT', `/v1/projects/${p}/members/${u.id}`, { role: 'annotator' }), 200);
  return { ...u, password, key: cliKey(srv.dir, email) };
}

/* A categorization project (admin is its manager) with one task per text,
 * created in order (the queue is first in, first out).  Returns
 * {project, tasks}. */
export async function makeTextProject(srv, { labels = ['cat', 'dog', 'bird'], texts, ...extra }) {
  const project = expectStatus(
    await srv.api('POST', '/v1/projects', {
      name: `browser-${Math.random().toString(36).slice(2, 8)}`,
      kind: 'categorization',
      params: { labels, instructions: 'Pick the animal the text is about.' },
      overlap: 1,
      ...extra,
    }),
    201,
  );
  const tasks = [];
  for (const [i, text] of texts.entries())
    tasks.push(expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: `t${i}`, data: { text } }), 201));
  return { project, tasks };
}

/* Polls fn (sync or async) every 50 ms until it returns something truthy,
 * and returns that; after timeout ms fails with what(), which should say
 * what was expected and what the page showed. */
export async function until(fn, what, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = typeof what === 'function' ? await Promise.resolve(what(last)).catch((e) => String(e)) : what;
      assert.fail(`${why} (waited ${timeout} ms)${last instanceof Error ? `: ${last.message.split('\n')[0]}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/* The text (innerText, trimmed) of the first match of selector, or null if
 * none (or the page is between two documents). */
export async function textOf(page, selector) {
  return page
    .evaluate((sel) => {
      const e = document.querySelector(sel);
      return e ? (e.innerText ?? e.textContent ?? '').trim() : null;
    }, selector)
    .catch(() => null);
}

/* Waits until selector is visible. */
export async function waitVisible(page, selector, what = selector, timeout = WAIT_MS) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout });
  } catch {
    assert.fail(`${what}: ${selector} did not become visible within ${timeout} ms; the page (${page.url()}) shows: ${await pageText(page)}`);
  }
}

/* Waits until the text of selector matches re. */
export async function waitText(page, selector, re, what = `${selector} to show ${re}`, timeout = WAIT_MS) {
  return until(
    async () => {
      const t = await textOf(page, selector);
      return t !== null && re.test(t) ? t : null;
    },
    async () => `expected ${what}; ${selector} shows ${JSON.stringify(await textOf(page, selector))}; the page (${page.url()}) shows: ${await pageText(page)}`,
    timeout,
  );
}

/* The page's visible text, shortened, for failure messages. */
export async function pageText(page, max = 600) {
  const t = await page
    .evaluate(() => (document.body ? document.body.innerText : ''))
    .catch((e) => `(cannot read the page: ${e.message.split('\n')[0]})`);
  const s = JSON.stringify(t.replace(/\s+/g, ' ').trim());
  return s.length > max ? s.slice(0, max) + '…"' : s;
}

/* aria-pressed of every button[data-label], as {name: "true"|"false"|null}. */
export async function labelStates(page) {
  return page.$$eval('button[data-label]', (bs) => Object.fromEntries(bs.map((b) => [b.dataset.label, b.getAttribute('aria-pressed')])));
}

/* Waits until exactly the labels in `names` are pressed (aria-pressed
 * "true") and every other label button is not. */
export async function waitPressed(page, names, what = `labels ${JSON.stringify(names)} pressed`) {
  let seen;
  return until(
    async () => {
      seen = await labelStates(page);
      const keys = Object.keys(seen);
      if (!keys.length) return false;
      return keys.every((k) => (seen[k] === 'true') === names.includes(k)) && names.every((n) => n in seen);
    },
    async () => `expected ${what}; aria-pressed of button[data-label] is ${JSON.stringify(seen)}`,
  );
}

/* Logs in through the login page and waits for the project list (and for
 * the link to project, if given: a page that is still loading the list
 * could otherwise draw it over the next page). */
export async function login(page, srv, email, password, { shot, project } = {}) {
  await page.goto(`${srv.base}/#/login`);
  await waitVisible(page, 'input[name=email]', 'the login page');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  if (shot) await screenshot(page, shot);
  await page.click('button[type=submit]');
  await until(
    async () => {
      if (/^#\/projects\/?$/.test(await page.evaluate(() => location.hash))) return true;
      const err = await textOf(page, '[data-testid=error]');
      if (err) assert.fail(`logging in as ${email} showed the error ${JSON.stringify(err)}`);
      return false;
    },
    async () => `after logging in as ${email} the UI did not go to #/projects; it is at ${page.url()} showing ${await pageText(page)}`,
  );
  if (project) await waitVisible(page, `a[data-project-id="${project.id}"]`, `the project list after logging in as ${email}`);
}

/* Logs in and opens project's queue by its address (#/projects/ID/queue). */
export async function openQueue(page, srv, user, project) {
  await login(page, srv, user.email, user.password, { project });
  await page.goto(`${srv.base}/#/projects/${project.id}/queue`);
}

/* Saves the page to build/screenshots/NAME.png; returns the path. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/* Records, in the page, every text [data-testid=status] shows (a short-lived
 * "Submitted" could be gone before a poll sees it): read with statusLog().
 * Call before the first page.goto of a context. */
async function recordStatuses(context) {
  await context.addInitScript(() => {
    const log = [];
    Object.defineProperty(window, '__loupeStatusLog', { value: log });
    let last = null;
    const check = () => {
      for (const el of document.querySelectorAll('[data-testid=status]')) {
        const t = (el.textContent || '').trim();
        if (t && t !== last) log.push(t);
        last = t;
      }
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

export async function statusLog(page) {
  return page.evaluate(() => window.__loupeStatusLog.slice()).catch(() => []);
}

/* Waits until [data-testid=status] has shown a text matching re since the
 * log was cleared (clearStatusLog) or the page loaded. */
export async function waitStatus(page, re, what = `the status to show ${re}`) {
  return until(
    async () => (await statusLog(page)).find((t) => re.test(t)),
    async () => `expected ${what}; [data-testid=status] showed ${JSON.stringify(await statusLog(page))}, now ${JSON.stringify(await textOf(page, '[data-testid=status]'))}; the page shows ${await pageText(page)}`,
  );
}

export async function clearStatusLog(page) {
  await page.evaluate(() => window.__loupeStatusLog.splice(0)).catch(() => {});
}

/* Declares a test with its own browser context and page.  fn gets
 * {page, context, requests, assignments, browser}: requests lists {method,
 * url, path, body, status} of every /v1 request the page made (status
 * null: it failed; undefined: no answer yet); assignments, every
 * assignment that GET /v1/projects/ID/queue/next gave the page. */
export function browserTest(name, opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  return it(name, { timeout: 60000 * SLOW, ...opts }, async (t) => {
    const browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(WAIT_MS);
    await recordStatuses(context);
    const page = await context.newPage();
    const pageErrors = [];
    const requests = [];
    const assignments = [];
    page.on('pageerror', (e) => pageErrors.push(e));
    page.on('response', async (res) => {
      if (!/\/v1\/projects\/\d+\/queue\/next$/.test(new URL(res.url()).pathname) || res.status() !== 200) return;
      const body = await res.json().catch(() => null);
      if (body?.assignment) assignments.push(body.assignment);
    });
    page.on('request', (req) => {
      if (!new URL(req.url()).pathname.startsWith('/v1/')) return;
      const rec = { method: req.method(), url: req.url(), path: new URL(req.url()).pathname, body: req.postData(), status: undefined };
      requests.push(rec);
      req
        .response()
        .then((res) => (rec.status = res ? res.status() : null))
        .catch(() => (rec.status = null));
    });
    page.on('requestfailed', (req) => {
      const rec = requests.findLast((r) => r.url === req.url() && r.status === undefined);
      if (rec) rec.status = null;
    });
    try {
      await fn({ page, context, requests, assignments, browser, t });
      assert.deepEqual(
        pageErrors.map((e) => e.message),
        [],
        'the page threw uncaught exceptions',
      );
    } catch (e) {
      let where = '';
      try {
        const file = await screenshot(page, `failed-${name}`);
        where = `\n    page: ${page.url()} (screenshot ${path.relative(ROOT, file)})\n    shows: ${await pageText(page, 1200)}`;
        where += `\n    status texts seen: ${JSON.stringify(await statusLog(page))}`;
      } catch {
        /* the page is gone */
      }
      const reqs = requests.slice(-12).map((r) => `${r.method} ${r.path} -> ${r.status === null ? 'failed' : r.status ?? 'pending'}`);
      if (reqs.length) where += `\n    last API requests: ${reqs.join('; ')}`;
      if (pageErrors.length) where += `\n    uncaught page errors: ${pageErrors.map((x) => x.stack || x.message).join('\n')}`;
      if (e && typeof e === 'object') {
        try {
          e.message = `${e.message}${where}`;
        } catch {
          /* read-only */
        }
      }
      throw e;
    } finally {
      await context.close().catch(() => {});
    }
  });
}
