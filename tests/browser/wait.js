// Shared by the browser scripts.
// Poll a condition from Node with page.evaluate: Playwright's waitForFunction evaluates its
// predicate with eval inside the page, which the app's Content-Security-Policy forbids.
async function waitUntil(page, condition, arg, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      if (await page.evaluate(condition, arg)) return;
    } catch (e) {
      if (!/context was destroyed|navigat/i.test(String(e))) throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${condition}`);
    await page.waitForTimeout(200);
  }
}

module.exports = { waitUntil };
