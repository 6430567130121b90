// What a user sees on a finished job's page at one viewport: the verdict, the two videos and
// whether they play together, the grouped downloads, the page's text (for raw floats and server
// paths) and whether the 3D viewer's canvas changes. Usage: node job_page.js URL WIDTHxHEIGHT
// Prints one JSON object on the last line of stdout.
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));
const { waitUntil } = require(path.join(__dirname, 'wait.js'));

(async () => {
  const [url, size] = process.argv.slice(2);
  const [width, height] = size.split('x').map(Number);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--autoplay-policy=no-user-gesture-required'],
  });
  const result = { errors: [] };
  try {
    const page = await browser.newPage({ viewport: { width, height }, isMobile: width < 600, hasTouch: width < 600 });
    page.on('pageerror', (e) => result.errors.push(String(e)));
    await page.goto(url);
    await waitUntil(page, () => !document.getElementById('results').hidden && document.querySelectorAll('#downloads a').length > 0, null, 60000);
    await waitUntil(page, () => ['overlay', 'replay'].every((id) => document.getElementById(id).readyState >= 1), null, 30000);

    const box = async (selector) => {
      const b = await page.locator(selector).first().boundingBox();
      return b && { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
    };
    result.verdict = (await page.textContent('#verdict-text')).trim();
    result.verdict_visible = await page.isVisible('#verdict-text');
    result.verdict_box = await box('#verdict-text');
    result.overlay_box = await box('#overlay');
    result.replay_box = await box('#replay');
    result.videos_visible = (await page.isVisible('#overlay')) && (await page.isVisible('#replay'));
    result.video_sizes = await page.evaluate(() => ['overlay', 'replay'].map((id) => document.getElementById(id).videoWidth));

    // synchronised: the replay leads, the source video follows
    const state = () => page.evaluate(() => {
      const r = document.getElementById('replay'), o = document.getElementById('overlay');
      return { replay_time: r.currentTime, overlay_time: o.currentTime, expected: window.videoSync ? window.videoSync.sourceTime(r.currentTime) : null,
               replay_paused: r.paused, overlay_paused: o.paused };
    });
    await page.evaluate(() => document.getElementById('replay').play());
    await page.waitForTimeout(1500);
    result.sync_playing = await state();
    await page.evaluate(() => document.getElementById('replay').pause());
    await page.waitForTimeout(400);
    result.sync_paused = await state();
    await page.evaluate(() => { document.getElementById('replay').currentTime = Math.min(2.5, document.getElementById('replay').duration / 2); });
    await page.waitForTimeout(1200);
    result.sync_seeked = await state();

    result.groups = await page.evaluate(() => Object.fromEntries(['animation', 'research', 'diagnostics'].map((id) => {
      const group = document.getElementById(id);
      return [id, group ? { links: [...group.querySelectorAll('a')].map((a) => a.textContent), open: group.tagName === 'DETAILS' ? group.open : null } : null];
    })));
    result.groups_visible = (await page.isVisible('#animation')) && (await page.isVisible('#research')) && (await page.isVisible('#diagnostics summary'));
    result.metrics = await page.$$eval('#metrics tr', (rows) => rows.map((r) => ({ label: r.cells[0].textContent, value: r.cells[1].textContent, tip: r.title })));
    result.chart = await page.evaluate(() => ({ ticks: document.querySelectorAll('#curve svg text.tick').length, labels: [...document.querySelectorAll('#curve svg text.label')].map((t) => t.textContent),
                                                drawn: document.querySelectorAll('#curve svg polyline, #curve svg circle').length }));
    // the page's text as the DOM holds it (closed <details> included), and every attribute a user may see
    result.text = await page.evaluate(() => {
      const body = document.body.cloneNode(true);
      body.querySelectorAll('script').forEach((s) => s.remove());
      const titles = [...document.querySelectorAll('[title]')].map((e) => e.getAttribute('title'));
      return [body.textContent, ...titles].join('\n');
    });
    result.scroll_width = await page.evaluate(() => document.documentElement.scrollWidth);

    // the viewer's canvas animates: frames counted, and its pixels differ over time
    let frames = 0;
    try {
      await waitUntil(page, () => window.viewerState && window.viewerState.frames > 10, null, 60000);
      frames = await page.evaluate(() => window.viewerState.frames);
    } catch (e) {
      result.errors.push('viewer: ' + String(e).split('\n')[0]);
    }
    const first = await page.locator('#viewer').screenshot();
    await page.waitForTimeout(1200);
    const second = await page.locator('#viewer').screenshot();
    result.viewer = { frames_before: frames, frames_after: await page.evaluate(() => (window.viewerState ? window.viewerState.frames : 0)),
                      pixels_changed: !first.equals(second), error: await page.textContent('#error') };
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(String(e)); process.exit(1); });
