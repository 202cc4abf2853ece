// The conformance results page (xtask/src/results/page.html, filled by `cargo xtask`) checked in
// a real browser, as a person would use it: it loads from file:// without the network, shows
// every trial once, filters, opens a trial's details with the mouse and the keyboard, and shows
// what changed since the previous run.
//
//   node tests/page/check.mjs --page <index.html> --report <page-data.json> \
//     --chromium <path> --screenshot <png>
//
// `--report` is the data object the page embeds. Exit 0: every check passed; 1: a check failed
// (one line says which); 2: bad arguments.

import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const USAGE =
  "usage: node tests/page/check.mjs --page <index.html> --report <page-data.json> --chromium <path> --screenshot <png>";
const OPTIONS = ["page", "report", "chromium", "screenshot"];
const TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 30_000;

class CheckFailure extends Error {}
const fail = (message) => {
  throw new CheckFailure(message);
};

function usage(problem) {
  console.error(`check.mjs: ${problem}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    }
    const [flag, inline] = arg.split(/=(.*)/s);
    const name = flag.replace(/^--/, "");
    if (!flag.startsWith("--") || !OPTIONS.includes(name)) usage(`unknown argument ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") usage(`${flag} needs a value`);
    args[name] = value;
  }
  for (const name of OPTIONS) if (!args[name]) usage(`--${name} is missing`);
  for (const name of ["page", "report", "chromium"])
    if (!existsSync(args[name])) usage(`--${name} ${args[name]}: no such file`);
  return args;
}

const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
const some = (items, n = 5) => {
  const list = [...items];
  return list.slice(0, n).join(", ") + (list.length > n ? `, ... (${list.length} in all)` : "");
};
const attrValue = (s) => s.replace(/["\\]/g, "\\$&");
const exactText = (s) => new RegExp(`^\\s*${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let data;
  try {
    data = JSON.parse(readFileSync(args.report, "utf8"));
  } catch (err) {
    usage(`--report ${args.report} is not JSON: ${err.message}`);
  }
  if (!data || !Array.isArray(data.cases)) usage(`--report ${args.report} has no "cases" list`);
  const cases = data.cases;
  const attacks = data.attacks || [];
  const others = data.others || [];
  const all = [...cases, ...attacks, ...others];
  const caseNames = new Set(cases.map((c) => c.trial));
  const rerun = (trial) => (data.rerun || "").split("{trial}").join(trial);
  const pagePath = resolve(args.page);
  const notes = [];

  const browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    args: ["--no-sandbox"],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1600, height: 1000 },
    });
    const network = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      network.push(url);
      return route.abort();
    });
    // When the page says it is ready, relative to navigation start (performance.now()).
    await context.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body && document.body.dataset.ready === "true") {
          window.__readyAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, {
        subtree: true,
        attributes: true,
        attributeFilter: ["data-ready"],
      });
    });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    const errors = [];
    page.on("pageerror", (err) => errors.push(`page error: ${err.message.split("\n")[0]}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(`console error: ${msg.text().split("\n")[0]}`);
    });
    const clean = () => {
      if (network.length) fail(`the page asked the network for ${network[0]}`);
      if (errors.length) fail(errors[0]);
    };

    // 1, 2: load from file://, wait until ready
    await page.goto(pathToFileURL(pagePath).href, { waitUntil: "load" });
    try {
      await page.waitForSelector('body[data-ready="true"]', {
        state: "attached",
        timeout: READY_TIMEOUT_MS,
      });
    } catch {
      clean();
      fail(`the page never set body[data-ready=true] (waited ${READY_TIMEOUT_MS / 1000} s)`);
    }
    clean();
    const loadMs = Math.round(await page.evaluate(() => window.__readyAt ?? performance.now()));
    console.log(`page: ready ${loadMs} ms after navigation start`);

    // 3: one [data-trial] element per trial of the run
    const shownNames = await page.$$eval("[data-trial]", (els) =>
      els.map((e) => e.getAttribute("data-trial")),
    );
    {
      const expected = new Set(all.map((t) => t.trial));
      const seen = new Set();
      const twice = new Set();
      for (const n of shownNames) (seen.has(n) ? twice : seen).add(n);
      const missing = [...expected].filter((n) => !seen.has(n));
      const extra = [...seen].filter((n) => !expected.has(n));
      if (missing.length || extra.length || twice.size || expected.size !== all.length) {
        const parts = [
          `[data-trial] elements do not match the report: page has ${shownNames.length}, report has ${all.length} trials (${expected.size} names)`,
        ];
        if (missing.length) parts.push(`missing ${missing.length}: ${some(missing)}`);
        if (extra.length) parts.push(`extra ${extra.length}: ${some(extra)}`);
        if (twice.size) parts.push(`more than once: ${some(twice)}`);
        fail(parts.join("; "));
      }
    }

    // 3b: how many verdicts were reused, or why every trial ran, as the report says
    {
      const reused = page.locator("#reused");
      const said = (await reused.count()) ? await reused.first().textContent() : "";
      const expected = data.reuse
        ? `every trial ran (${data.reuse})`
        : `${Number(data.reused || 0).toLocaleString("en")} verdicts reused`;
      if (!said.includes(expected))
        fail(`the header says "${said}" of reused verdicts, expected it to say "${expected}"`);
    }

    // 4: filters, through the form like a user
    const visibleCases = async () => {
      const names = await page
        .locator("[data-trial]")
        .filter({ visible: true })
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-trial")));
      return new Set(names.filter((n) => caseNames.has(n)));
    };
    const filter = async (label, value) => {
      const control = page.getByLabel(label, { exact: true });
      try {
        if (value === null) await control.selectOption({ index: 0 });
        else await control.selectOption(value);
      } catch (err) {
        fail(`cannot set the ${label} filter to ${value ?? "all"}: ${err.message.split("\n")[0]}`);
      }
    };
    const expectCases = async (what, expected) => {
      const got = await visibleCases();
      if (!sameSet(got, expected)) {
        const missing = [...expected].filter((n) => !got.has(n));
        const extra = [...got].filter((n) => !expected.has(n));
        fail(
          `${what}: ${got.size} case cells visible, expected ${expected.size}` +
            (missing.length ? `; not shown: ${some(missing)}` : "") +
            (extra.length ? `; shown but should not be: ${some(extra)}` : ""),
        );
      }
    };
    const namesOf = (pred) => new Set(cases.filter(pred).map((c) => c.trial));
    await expectCases("with no filter", caseNames);
    const filterChecks = [];
    const hosts = data.hosts || [];
    if (hosts.length) {
      const host = hosts.length >= 2 ? hosts[1] : hosts[0];
      filterChecks.push(["Host", host, (c) => c.host === host]);
    }
    const status = ["fail", "xfail"].find((v) => cases.some((c) => c.verdict === v));
    if (status) filterChecks.push(["Status", status, (c) => c.verdict === status]);
    else notes.push("no fail or xfail case: status filter not checked");
    const groups = (data.groups || []).filter((g) => cases.some((c) => c.group === g.name));
    if (groups.length) {
      const group = (groups[1] || groups[0]).name;
      filterChecks.push(["Group", group, (c) => c.group === group]);
    }
    for (const [label, value, pred] of filterChecks) {
      await filter(label, value);
      await expectCases(`${label} filter ${value}`, namesOf(pred));
      const showing = await page.getByText(/showing [\d,]+ of [\d,]+ trials?/i).first();
      const line = (await showing.count()) ? await showing.textContent() : "";
      const m = line.match(/showing ([\d,]+) of ([\d,]+) trials?/i);
      if (!m) fail(`${label} filter ${value}: no "showing N of M trials" line`);
      const [shown, of] = [m[1], m[2]].map((s) => Number(s.replace(/,/g, "")));
      if (of !== all.length || shown < namesOf(pred).size)
        fail(`${label} filter ${value}: the page says "${line.trim()}"`);
      await filter(label, null);
      await expectCases(`after resetting the ${label} filter`, caseNames);
    }
    clean();

    // 5: open a failing cell's details with the mouse, close with Escape
    const dialog = page.getByRole("dialog");
    const target =
      ["fail", "xfail", "xpass"].map((v) => cases.find((c) => c.verdict === v)).find(Boolean) ||
      null;
    const opened = target || cases[0] || attacks[0];
    if (!target && opened)
      notes.push("no failing case in the report: opened a passing cell instead");
    const cellOf = (trial) => page.locator(`[data-trial="${attrValue(trial)}"]`);
    const openDetails = async (trial) => {
      await cellOf(trial).click();
      try {
        await dialog.waitFor({ state: "visible" });
      } catch {
        fail(`clicking ${trial} opened no visible details panel (role dialog)`);
      }
    };
    const checkDetails = async (t) => {
      const text = await dialog.innerText();
      if (!text.includes(t.trial)) fail(`the details panel for ${t.trial} does not name it`);
      if (t.diff) {
        const diff = dialog.locator(".diff");
        if (!(await diff.count())) fail(`the details of ${t.trial} have no .diff element`);
        const diffText = await diff.first().textContent();
        if (!/^[-+]/m.test(diffText))
          fail(`the .diff of ${t.trial} has no line starting with "-" or "+"`);
      }
      if (t.finding && !text.includes(t.finding))
        fail(`the details of ${t.trial} do not show its finding "${t.finding}"`);
      if (data.rerun) {
        const code = dialog.locator(".rerun");
        if (!(await code.count())) fail(`the details of ${t.trial} have no .rerun element`);
        const got = await code.first().textContent();
        if (got !== rerun(t.trial))
          fail(`the rerun command of ${t.trial} is "${got}", expected "${rerun(t.trial)}"`);
      }
    };
    const closeWithEscape = async (trial, focusName) => {
      await page.keyboard.press("Escape");
      try {
        await dialog.waitFor({ state: "hidden" });
      } catch {
        fail(`Escape did not close the details panel of ${trial}`);
      }
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        const holder = el && el.closest("[data-trial], [data-open]");
        return holder && (holder.getAttribute("data-trial") ?? holder.getAttribute("data-open"));
      });
      if (focused !== focusName)
        fail(
          `after Escape the focus is on ${focused ?? "no trial"}, not back on ${focusName ?? trial}`,
        );
    };
    if (opened) {
      await openDetails(opened.trial);
      await checkDetails(opened);
      await closeWithEscape(opened.trial, opened.trial);
    } else notes.push("no case or attack trial: details not checked");
    clean();

    // 6: keyboard in the grid
    const grid = page.getByRole("grid").first();
    if (await grid.count()) {
      const first = grid.locator("[data-trial]").first();
      const [firstName, nextName] = await first.evaluate((el) => {
        let n = el.nextElementSibling;
        while (n && !n.hasAttribute("data-trial")) n = n.nextElementSibling;
        return [el.getAttribute("data-trial"), n && n.getAttribute("data-trial")];
      });
      await first.focus();
      let expectName = firstName;
      if (nextName) {
        await page.keyboard.press("ArrowRight");
        const now = await page.evaluate(
          () => document.activeElement && document.activeElement.getAttribute("data-trial"),
        );
        if (now !== nextName)
          fail(`ArrowRight from ${firstName} focused ${now ?? "no cell"}, expected ${nextName}`);
        expectName = nextName;
      } else notes.push("the grid's first row has one cell: ArrowRight not checked");
      await page.keyboard.press("Enter");
      try {
        await dialog.waitFor({ state: "visible" });
      } catch {
        fail(`Enter on ${expectName} opened no details panel`);
      }
      if (!(await dialog.innerText()).includes(expectName))
        fail(`Enter on ${expectName} opened details that do not name it`);
      await closeWithEscape(expectName, expectName);
    } else notes.push("no grid: keyboard not checked");
    clean();

    // 7: what changed since the previous run
    const changed = (data.changes && data.changes.trials) || [];
    if (changed.length) {
      const section = page.locator("section", {
        has: page.getByRole("heading", {
          name: /changed since the previous run/i,
        }),
      });
      if (!(await section.count())) fail(`no "Changed since the previous run" section`);
      const listed = new Set(
        await section
          .locator("[data-open]")
          .evaluateAll((els) => els.map((e) => e.getAttribute("data-open"))),
      );
      const unlisted = changed.filter((t) => !listed.has(t.trial)).map((t) => t.trial);
      if (unlisted.length) fail(`changed trials missing from the changed list: ${some(unlisted)}`);
      const first = changed[0].trial;
      await section.locator(`[data-open="${attrValue(first)}"]`).click();
      try {
        await dialog.waitFor({ state: "visible" });
      } catch {
        fail(`the changed list's entry ${first} opened no details panel`);
      }
      if (!(await dialog.innerText()).includes(first))
        fail(`the changed list's entry ${first} opened details that do not name it`);
      await closeWithEscape(first, first);
      await filter("Status", "changed");
      const changedNames = new Set(changed.map((t) => t.trial));
      await expectCases(
        "Status filter changed",
        namesOf((c) => changedNames.has(c.trial)),
      );
      await filter("Status", null);
    }
    const history = data.history || [];
    if (history.length >= 2) {
      const prev = history[history.length - 2].scores || {};
      const now = data.scores || {};
      let moved = null;
      for (const kind of ["hosts", "languages"]) {
        for (const [name, s] of Object.entries(now[kind] || {})) {
          const p = (prev[kind] || {})[name];
          if (p && p.pass !== s.pass) {
            moved = { name, delta: s.pass - p.pass };
            break;
          }
        }
        if (moved) break;
      }
      if (moved) {
        const mark = moved.delta > 0 ? `▲${moved.delta}` : `▼${-moved.delta}`;
        const row = page.locator("header tr", {
          has: page.locator("th", { hasText: exactText(moved.name) }),
        });
        if (!(await row.count())) fail(`the header has no score row for ${moved.name}`);
        const text = await row.first().innerText();
        if (!text.includes(mark))
          fail(
            `the header's score for ${moved.name} moved by ${moved.delta} but shows "${text.replace(/\s+/g, " ").trim()}"`,
          );
      } else notes.push("no score moved since the previous run");
    }
    clean();

    // 8: screenshot with a failing cell's details open
    if (opened) {
      await openDetails(opened.trial);
      await page.waitForTimeout(100);
    }
    await page.screenshot({ path: args.screenshot });
    clean();

    for (const note of notes) console.log(`page: note: ${note}`);
    const kb = (statSync(pagePath).size / 1024).toFixed(0);
    console.log(
      `page: ${all.length} trials, ${kb} KB, loaded in ${loadMs} ms; checks passed; screenshot ${args.screenshot}`,
    );
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  const message =
    err instanceof CheckFailure ? err.message : err && err.message ? err.message : String(err);
  console.error(`page check failed: ${message.split("\n")[0]}`);
  process.exit(1);
});
