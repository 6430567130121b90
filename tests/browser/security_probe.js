// Headless Chromium visits pages and reports what ran on them. Usage: node security_probe.js CONFIG.json
// CONFIG: {"chromium_args": [...], "visits": [{"name", "url", "actions": [{"do": "setInputFiles"|"evaluate"|"click", ...}],
//          "wait": "JS expression", "wait_url": "URL prefix", "collect": "JS expression"}]}
// For each visit it prints: the HTTP status, the page title, window.__xss (the marker every payload sets
// when it runs), the page's text, what "collect" evaluated to, page errors, CSP reports and whether a
// download started instead of a page. One JSON object on the last line of stdout.
const fs = require('fs');
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));

const { waitUntil } = require(path.join(__dirname, 'wait.js'));

(async () => {
  const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', ...(config.chromium_args || [])],
  });
  const results = {};
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    for (const visit of config.visits) {
      const page = await context.newPage();
      const result = { errors: [], csp: [], download: false };
      page.on('pageerror', (e) => result.errors.push(String(e)));
      page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) result.csp.push(m.text()); });
      page.on('download', () => { result.download = true; });
      try {
        const response = await page.goto(visit.url, { waitUntil: 'load', timeout: 30000 });
        result.status = response ? response.status() : null;
        for (const action of visit.actions || []) {
          if (action.do === 'setInputFiles') await page.setInputFiles(action.selector, action.file);
          else if (action.do === 'click') await page.click(action.selector);
          else if (action.do === 'evaluate') await page.evaluate(action.script);
        }
        if (visit.wait_url) await page.waitForURL((u) => u.href.startsWith(visit.wait_url), { timeout: 30000 });
        if (visit.wait) await waitUntil(page, visit.wait, undefined, 30000);
        await page.waitForTimeout(800);  // broken images and frames fire their handlers
      } catch (e) {
        await page.waitForTimeout(500);  // a download aborts the navigation; its event may come just after
        if (/[Dd]ownload is starting/.test(String(e))) result.download = true;
        if (!result.download) result.failure = String(e).split('\n')[0];
      }
      try {
        result.url = page.url();
        result.title = await page.title();
        result.xss = await page.evaluate(() => window.__xss || 0);
        result.text = await page.evaluate(() => (document.body ? document.body.innerText : ''));
        if (visit.collect) result.collected = await page.evaluate(visit.collect);
      } catch (e) {
        result.failure = result.failure || String(e).split('\n')[0];
      }
      results[visit.name] = result;
      await page.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(results));
})().catch((e) => { console.error(String(e)); process.exit(1); });
