// The PWA figures for the outlook page (SPEC S9 budgets), against a running Headroom with
// the demo household: bytes transferred, Lighthouse (mobile) scores with LCP and TBT, and
// the time an offline reload takes to show the outlook; the same weight and scores for a
// meter's page with its chart explorer. Prints figures; passes nothing.
//   node bench/pwa.mjs http://127.0.0.1:3101      (bench/pwa.sh starts the server for you)
// Uses end2end's playwright-core and lighthouse, and Debian's Chromium: nothing is downloaded.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const end2end = new URL("../end2end/", import.meta.url).pathname;
const require = createRequire(join(end2end, "package.json"));
const { chromium } = require("playwright-core");

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const email = process.env.BENCH_EMAIL ?? "ben@headroom.demo";
const password = process.env.BENCH_PASSWORD ?? "headroom-demo";
const CHROME = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
const emit = (name, value, unit, budget) => {
  results.push({ bench: "pwa", name, value, unit, budget });
  console.log(`${name.padEnd(44)} ${String(value).padStart(10)} ${unit.padEnd(3)} ${budget ? `(budget ${budget})` : ""}`);
};

// A session cookie, as the sign-in form gets it.
const login = await fetch(`${base}/login`, {
  method: "POST",
  body: new URLSearchParams({ email, password, next: "/" }),
  redirect: "manual",
});
const session = login.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.startsWith("headroom_session="));
if (!session) throw new Error(`sign-in as ${email} failed (${login.status})`);
const [cookieName, cookieValue] = session.split("=");
const url = new URL(base);
// The meter page measured: the bench user's first sensor (the explorer's heaviest case).
const meters = await (await fetch(`${base}/api/v1/meters`, { headers: { cookie: session } })).json();
const sensor = meters.find((m) => m.kind === "sensor") ?? meters[0];
const meterPath = `/meters/${sensor.id}`;

const browser = await chromium.launch({ executablePath: CHROME, args: ARGS });
async function signedInContext(options = {}) {
  const context = await browser.newContext(options);
  await context.addCookies([{ name: cookieName, value: cookieValue, domain: url.hostname, path: "/" }]);
  return context;
}

// 1. Weight: what a first visit transfers (Chromium asks for brotli), for the outlook and
// for a meter's page once its explorer has hydrated and fetched its chart.
async function weigh(path, ready, label, budget) {
  const context = await signedInContext();
  const page = await context.newPage();
  await page.goto(`${base}${path}`);
  await page.locator(ready).waitFor();
  const entries = await page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => ({
      name: new URL(e.name).pathname,
      bytes: e.transferSize,
      body: e.encodedBodySize,
    })),
  );
  const kind = (p) => (p.endsWith(".wasm") ? "wasm" : p.endsWith(".js") ? "js" : p.endsWith(".css") ? "css" : p.startsWith("/api/") ? "data" : p.startsWith("/pkg/") ? "other" : p === path ? "html" : "other");
  const sums = {};
  for (const e of entries) sums[kind(e.name)] = (sums[kind(e.name)] ?? 0) + e.bytes;
  for (const k of ["html", "wasm", "js", "css", "data"]) {
    if (sums[k] !== undefined || k !== "data") emit(`${label} transfer: ${k}`, +((sums[k] ?? 0) / 1024).toFixed(1), "KB");
  }
  const total = ["html", "wasm", "js", "css", "data"].reduce((s, k) => s + (sums[k] ?? 0), 0);
  emit(`${label} transfer: total (br)`, +(total / 1024).toFixed(1), "KB", budget);
  if (sums.other) console.log(`  (besides: ${kb(sums.other)} of icons and other files)`);
  await context.close();
}
await weigh("/", ".board[data-hydrated=true]", "outlook", "≤ 200 KB");
await weigh(meterPath, ".explorer[data-hydrated=true]", "meter page");

// 2. Offline reload of the installed app: time to a visible outlook, median of 5.
{
  const context = await signedInContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null;
  });
  await page.reload();
  await page.locator(".board[data-hydrated=true]").waitFor();
  await context.setOffline(true);
  const visible = [], fcp = [], banner = [];
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    await page.reload({ waitUntil: "commit" });
    await page.locator(".board h1").waitFor();
    visible.push(Date.now() - started);
    await page.getByTestId("offline-banner").waitFor();
    banner.push(Date.now() - started);
    fcp.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN));
  }
  emit("offline reload: outlook visible (wall, median)", median(visible), "ms", "≤ 300 ms");
  emit("offline reload: first contentful paint (median)", Math.round(median(fcp)), "ms");
  emit("offline reload: banner shown, hydrated (median)", median(banner), "ms");
  await context.close();
}
await browser.close();

// 3. Lighthouse, mobile (its default: emulated phone, simulated slow 4G), on the outlook and
// on a meter's page with the explorer.
function lighthouse(path, label, perfBudget) {
  const out = join(mkdtempSync(join(tmpdir(), "headroom-lh-")), "report.json");
  execFileSync(join(end2end, "node_modules/.bin/lighthouse"), [
    `${base}${path}`,
    "--quiet",
    `--chrome-flags=${ARGS.join(" ")}`,
    "--only-categories=performance,accessibility,best-practices",
    `--extra-headers=${JSON.stringify({ Cookie: session })}`,
    "--output=json",
    `--output-path=${out}`,
  ], { env: { ...process.env, CHROME_PATH: CHROME }, stdio: ["ignore", "ignore", "inherit"] });
  const report = JSON.parse(readFileSync(out, "utf8"));
  const score = (c) => Math.round(report.categories[c].score * 100);
  emit(`lighthouse ${label}: performance`, score("performance"), "", perfBudget);
  emit(`lighthouse ${label}: accessibility`, score("accessibility"), "", "100");
  emit(`lighthouse ${label}: best practices`, score("best-practices"), "", "100");
  emit(`lighthouse ${label}: LCP`, Math.round(report.audits["largest-contentful-paint"].numericValue), "ms");
  emit(`lighthouse ${label}: TBT`, Math.round(report.audits["total-blocking-time"].numericValue), "ms");
  emit(`lighthouse ${label}: FCP`, Math.round(report.audits["first-contentful-paint"].numericValue), "ms");
  emit(`lighthouse ${label}: CLS`, +report.audits["cumulative-layout-shift"].numericValue.toFixed(3), "");
  for (const c of ["performance", "accessibility", "best-practices"]) {
    for (const ref of report.categories[c].auditRefs) {
      const a = report.audits[ref.id];
      if (ref.weight > 0 && a.score !== null && a.score < 1) console.log(`  ${c}: ${a.id} (${a.score}) ${a.displayValue ?? ""} — ${a.title}`);
    }
  }
  console.log(`  report: ${out}`);
}
lighthouse("/", "mobile (outlook)", "≥ 98");
lighthouse(meterPath, "mobile (meter page)", "≥ 95");
if (process.env.BENCH_JSONL) {
  const { appendFileSync } = await import("node:fs");
  for (const r of results) appendFileSync(process.env.BENCH_JSONL, `${JSON.stringify(r)}\n`);
}
