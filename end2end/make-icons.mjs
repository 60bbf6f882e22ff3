// Renders the brand mark (public/favicon.svg) to the PNG icons the web app manifest and
// iOS want, in Debian's Chromium (no downloads), with end2end's playwright-core:
//   node end2end/make-icons.mjs
// The outputs are committed; rerun only when the mark changes.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const root = new URL("..", import.meta.url).pathname;
const mark = readFileSync(`${root}public/favicon.svg`, "utf8");
// Maskable icons keep their content inside the central 80 % circle: the mark is drawn at
// 80 % on a full-bleed background of the mark's own colour.
const icons = [
  { file: "icon-192.png", size: 192, maskable: false },
  { file: "icon-512.png", size: 512, maskable: false },
  { file: "icon-maskable-512.png", size: 512, maskable: true },
  { file: "apple-touch-icon.png", size: 180, maskable: true },
];

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
const page = await browser.newPage();
for (const { file, size, maskable } of icons) {
  await page.setViewportSize({ width: size, height: size });
  const inner = maskable ? Math.round(size * 0.8) : size;
  // The plain icons keep the mark's rounded corners and transparent outside; the maskable
  // and Apple ones are square (the platform rounds them).
  const svg = mark.replace("<svg ", `<svg width="${inner}" height="${inner}" `);
  await page.setContent(
    `<html><body style="margin:0;width:${size}px;height:${size}px;display:grid;place-items:center;background:${maskable ? "#0f766e" : "transparent"}">${svg}</body></html>`,
  );
  await page.screenshot({ path: `${root}public/icons/${file}`, omitBackground: !maskable, clip: { x: 0, y: 0, width: size, height: size } });
  console.log(`public/icons/${file} ${size}×${size}`);
}
await browser.close();
