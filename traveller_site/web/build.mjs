// Builds the site's bundle: traveller_site/static/dist/site.js and site.css (Leaflet included),
// minified, with a header naming the SHA-256 of the sources and the lock file, so a test can tell
// a bundle that no longer matches its sources (tests/traveller_site/test_bundle.py).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "dist");

export function sourcesHash() {
  const hash = createHash("sha256");
  const files = ["package-lock.json", "build.mjs", ...readdirSync(join(here, "src")).sort().map((f) => join("src", f))];
  for (const file of files) {
    hash.update(file + "\n");
    hash.update(readFileSync(join(here, file)));
  }
  return hash.digest("hex");
}

const digest = sourcesHash();
const banner = `/* OùRA traveller site, built by traveller_site/web/build.mjs from sources ${digest}. Leaflet (BSD-2-Clause) included. */`;
await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true, minify: true, format: "iife", target: ["es2020"], outdir: out, entryNames: "site",
  banner: { js: banner, css: banner }, legalComments: "none", logLevel: "warning",
  loader: { ".png": "empty", ".svg": "empty" },
});
writeFileSync(join(out, "SOURCES"), digest + "\n");
console.log(`built ${out} (sources ${digest})`);
