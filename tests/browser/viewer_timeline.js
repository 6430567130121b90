// The web app's 3D viewer (app/server/pages/static/viewer.js, three.js from the real server) on a
// page of its own under the server's Content-Security-Policy: play/pause, scrub the timeline, and
// at each scrubbed time report where both characters are on screen.
// Usage: node viewer_timeline.js SERVER_URL PAGE.html CSP SIM.glb REFERENCE.glb SCREENSHOT_PREFIX [WIDTH HEIGHT]
const fs = require('fs');
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules', 'playwright-core'));
const { waitUntil } = require(path.join(__dirname, 'wait.js'));

const STEPS = 20;  // scrubbed positions from the start to the end of the clip

(async () => {
  const [url, pageFile, policy, sim, reference, shots, width, height] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const result = {};
  try {
    const page = await browser.newPage({ viewport: { width: Number(width || 1280), height: Number(height || 800) } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`); });
    await page.addInitScript(() => {
      window.violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    // This page and the two motions come from disk; everything else (viewer.js, style.css, three.js) from the server.
    const local = { '/viewer-check': [fs.readFileSync(pageFile), 'text/html'],
                    '/viewer-check.js': ['window.pendingViewer = ["/viewer-check/sim.glb", "/viewer-check/reference.glb"];', 'text/javascript'],
                    '/viewer-check/sim.glb': [fs.readFileSync(sim), 'model/gltf-binary'],
                    '/viewer-check/reference.glb': [fs.readFileSync(reference), 'model/gltf-binary'] };
    await page.route((u) => u.pathname in local, (route) => {
      const [body, contentType] = local[new URL(route.request().url()).pathname];
      route.fulfill({ body, contentType, headers: { 'Content-Security-Policy': policy } });
    });
    await page.goto(`${url}/viewer-check`);
    try {
      await waitUntil(page, () => (window.viewerState && window.viewerState.frames > 10) || document.getElementById('error').textContent, null, 60000);
    } catch (e) {
      throw new Error(`${e}; page errors: ${errors.join(' | ')}; CSP violations: ${(await page.evaluate(() => window.violations)).join(' | ')}`);
    }
    result.error_text = await page.textContent('#error');
    if (result.error_text) throw new Error(result.error_text);
    Object.assign(result, await page.evaluate(() => ({ duration: viewerState.duration, skinned: viewerState.skinned })));

    // playing: time goes on (modulo the clip: it starts again at the end) and frames are drawn
    const [t0, n0] = await page.evaluate(() => [viewerState.time, viewerState.frames]);
    await page.waitForTimeout(700);
    await waitUntil(page, (n) => viewerState.frames > n + 3, n0, 30000);
    result.played = ((await page.evaluate(() => viewerState.time)) - t0 + result.duration) % result.duration;
    // pause: time stands still
    await page.click('#play');
    result.play_label_when_paused = await page.textContent('#play');
    const [paused, drawn] = await page.evaluate(() => [viewerState.time, viewerState.frames]);
    await page.waitForTimeout(500);
    result.moved_while_paused = (await page.evaluate(() => viewerState.time)) - paused;
    result.drawn_while_paused = (await page.evaluate(() => viewerState.frames)) - drawn;  // at most the frame that showed the pause
    await page.click('#play');
    const resumed = await page.evaluate(() => viewerState.time);
    await waitUntil(page, (t) => viewerState.playing && viewerState.time !== t, resumed, 30000);
    result.playing_again = true;

    // scrub: the range input sets the time, pauses, and both characters stay on screen
    result.scrub = [];
    for (let k = 0; k <= STEPS; k++) {
      const frames = await page.evaluate((k) => {
        const slider = document.getElementById('timeline');
        slider.value = String(k[0] / k[1] * Number(slider.max));
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        return viewerState.frames;
      }, [k, STEPS]);
      await waitUntil(page, (n) => viewerState.frames > n, frames, 30000);  // drawn at the new time
      const s = await page.evaluate(() => ({ time: viewerState.time, playing: viewerState.playing, ndc: viewerState.ndc,
                                             slider: Number(document.getElementById('timeline').value), clock: document.getElementById('clock').textContent }));
      s.asked = k / STEPS * result.duration;
      result.scrub.push(s);
      if (k === 0 || k === STEPS / 2 || k === STEPS) await page.locator('#viewer').screenshot({ path: `${shots}-${k}.png` });
    }
    result.controls = await page.evaluate(() => ['play', 'timeline', 'clock'].map((id) => document.getElementById(id)?.tagName));
    result.violations = await page.evaluate(() => window.violations);
    result.errors = errors;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(String(e)); process.exit(1); });
