// Real-browser check of the web app: upload a video through the page, follow the job to the
// end, and see the 3D viewer render frames. Usage: node upload_and_view.js URL VIDEO SCREENSHOT
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));

const { waitUntil } = require(path.join(__dirname, 'wait.js'));

(async () => {
  const [url, video, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const result = {};
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.setInputFiles('#file', video);
    await page.fill('#minutes', '1');
    await page.click('#upload summary');  // the options are folded
    await page.selectOption('#estimator', 'lifter');
    await Promise.all([page.waitForURL(/\/jobs\//, { timeout: 60000 }), page.click('#send')]);
    await waitUntil(page, () => ['done', 'failed'].includes(document.getElementById('status').textContent), null, 300000);
    result.status = await page.textContent('#status');
    result.estimator = await page.textContent('#estimator');
    await waitUntil(page, () => window.viewerState && window.viewerState.frames > 20, null, 60000);
    result.viewer_frames = await page.evaluate(() => window.viewerState.frames);
    result.duration = await page.evaluate(() => window.viewerState.duration);
    result.downloads = await page.$$eval('a.download', (links) => links.map((a) => a.textContent));
    result.metrics_rows = await page.$$eval('#metrics tr', (rows) => rows.length);
    result.replay_src = await page.getAttribute('#replay', 'src');
    // the browser decodes the videos (VP8 WebM): their size is known once metadata loaded
    await waitUntil(page, () => ['overlay', 'side', 'replay'].every((id) => document.getElementById(id).videoWidth > 0), null, 30000);
    result.videos_playable = true;
    await page.locator('#viewer').screenshot({ path: screenshot });
    result.errors = errors.concat(await page.textContent('#error') ? [await page.textContent('#error')] : []);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(String(e)); process.exit(1); });
