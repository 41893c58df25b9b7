// Adds up the suites' results into one closing line: "certprune: N passed, N failed".
const fs = require("node:fs");
const path = require("node:path");

const dir = process.argv[2] ?? "test-results";
let passed = 0, failed = 0, skipped = 0;
const missing = [];

for (const name of ["vitest.json", "e2e.json"]) {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) { missing.push(name); continue; }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  if (!r.success && r.numFailedTests === 0) failed += 1; // a suite that failed outside any test
}
const xml = path.join(dir, "pytest.xml");
if (fs.existsSync(xml)) {
  const text = fs.readFileSync(xml, "utf8");
  const attr = (n) => [...text.matchAll(new RegExp(`<testsuite [^>]*\\b${n}="(\\d+)"`, "g"))].reduce((s, m) => s + Number(m[1]), 0);
  const total = attr("tests"), fails = attr("failures") + attr("errors"), skips = attr("skipped");
  passed += total - fails - skips;
  failed += fails;
  skipped += skips;
} else missing.push("pytest.xml");

for (const m of missing) console.log(`missing results: ${m} (that suite did not run to the end)`);
failed += missing.length;
console.log(`certprune: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
