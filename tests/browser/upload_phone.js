// The upload page on a phone-sized screen: its layout fits, the file inputs offer the camera,
// an upload shows its progress in percent (the network throttled so there is time to see it),
// and a refused file's message is shown. Usage: node upload_phone.js URL GOOD_VIDEO BAD_FILE
// Prints one JSON object on the last line of stdout.
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));
const { waitUntil } = require(path.join(__dirname, 'wait.js'));

const UPLOAD_BYTES_PER_S = 256 * 1024;

(async () => {
  const [url, video, bad] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const result = { errors: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    page.on('pageerror', (e) => result.errors.push(String(e)));
    await page.goto(url);
    result.layout = await page.evaluate(() => ({
      scroll_width: document.documentElement.scrollWidth,
      inputs: [...document.querySelectorAll('input[type=file]')].map((i) => ({ id: i.id, accept: i.accept, capture: i.getAttribute('capture'),
        right: Math.round(i.getBoundingClientRect().right) })),
      send: (() => { const b = document.getElementById('send').getBoundingClientRect(); return { right: Math.round(b.right), height: Math.round(b.height) }; })(),
    }));

    // the refused file: the server's own message, shown as text
    await page.setInputFiles('#file', bad);
    await page.click('#send');
    await waitUntil(page, () => document.getElementById('message').textContent.length > 0, null, 30000);
    result.refused = { message: await page.textContent('#message'), visible: await page.isVisible('#message'), url: page.url() };

    // a real upload, throttled: the percentage seen while it goes
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: UPLOAD_BYTES_PER_S });
    await page.setInputFiles('#file', video);
    await page.fill('#minutes', '1');
    const seen = [];
    const navigated = page.waitForURL(/\/jobs\//, { timeout: 120000 });
    await page.click('#send');
    const deadline = Date.now() + 120000;
    while (!/\/jobs\//.test(page.url()) && Date.now() < deadline) {
      try {
        const shown = await page.evaluate(() => (document.getElementById('upload-state').hidden ? null : document.getElementById('percent').textContent));
        if (shown && seen[seen.length - 1] !== shown) seen.push(shown);
      } catch (e) {
        break;  // the page navigated to the job
      }
      await page.waitForTimeout(50);
    }
    await navigated;
    result.percents = seen;
    result.job_url = page.url();
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(String(e)); process.exit(1); });
