// Full-page screenshot of a vidmimic page: node screenshot.js URL OUT.png [wait-for-viewer]
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));
(async () => {
  const [url, out, waitViewer] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(url);
  // polled from here: waitForFunction evaluates with eval in the page, which the app's CSP forbids
  const deadline = Date.now() + 60000;
  while (waitViewer && !(await page.evaluate(() => window.viewerState && window.viewerState.frames > 30))) {
    if (Date.now() > deadline) throw new Error('the 3D viewer drew no frames');
    await page.waitForTimeout(200);
  }
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out, fullPage: true });
  await browser.close();
})().catch((e) => { console.error(String(e)); process.exit(1); });
