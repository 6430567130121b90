// Screenshot of a vidmimic page, as the README's images are made:
//   node tests/browser/screenshot.js URL OUT.png [WIDTHxHEIGHT] [--viewer] [--full]
// WIDTHxHEIGHT: the viewport (default 1280x800); --viewer (or a third argument "1", as older
// callers pass): wait for the 3D viewer to draw 30 frames; --full: the whole page, not only the viewport. The videos are paused at 2 s so the picture is the same every time.
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));
const { waitUntil } = require(path.join(__dirname, 'wait.js'));

(async () => {
  const args = process.argv.slice(2);
  const [url, out] = args;
  const size = args.find((a) => /^\d+x\d+$/.test(a)) || '1280x800';
  const [width, height] = size.split('x').map(Number);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--hide-scrollbars'] });
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1, isMobile: width < 600, hasTouch: width < 600 });
    await page.goto(url);
    if (args.includes('--viewer') || args[2] === '1') await waitUntil(page, () => window.viewerState && window.viewerState.frames > 30, null, 60000);
    // every video shows a frame (paused at 2 s, or its end if shorter)
    await waitUntil(page, () => [...document.querySelectorAll('video')].every((v) => !v.src || v.readyState >= 1), null, 30000);
    await page.evaluate(() => Promise.all([...document.querySelectorAll('video')].filter((v) => v.src).map((v) => new Promise((done) => {
      v.pause();
      v.addEventListener('seeked', done, { once: true });
      v.currentTime = Math.min(2, (v.duration || 2) - 0.1);
      setTimeout(done, 3000);
    }))));
    await page.waitForTimeout(800);
    await page.screenshot({ path: out, fullPage: args.includes('--full') || args[2] === '1' });
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e)); process.exit(1); });
