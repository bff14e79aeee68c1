// Validate Thing Descriptions with the Thingweb Playground's validator
// (@thing-description-playground/core): JSON Schema, JSON-LD (with the TD contexts read from
// tests/wot/contexts, offline) and the additional checks.
//
// Usage: node playground_validate.js TDS.json   (a JSON object: name -> TD)
// Exits non-zero if any check fails; warnings are printed.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const core = require("@thing-description-playground/core");

const coreDir = path.dirname(require.resolve("@thing-description-playground/core/package.json"));
const jsonld = require(require.resolve("jsonld", { paths: [coreDir] }));
const contexts = {
    "https://www.w3.org/2019/wot/td/v1": "td-context-1.0.jsonld",
    "https://www.w3.org/2022/wot/td/v1.1": "td-context-1.1.jsonld",
};
const contextDir = path.join(__dirname, "..", "wot", "contexts");
jsonld.documentLoader = async (url) => {
    const file = contexts[url];
    if (!file) throw new Error(`no local copy of the JSON-LD context ${url}`);
    const document = JSON.parse(fs.readFileSync(path.join(contextDir, file), "utf8"));
    return { contextUrl: null, documentUrl: url, document };
};

(async () => {
    const tds = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    let failed = false;
    for (const [name, td] of Object.entries(tds)) {
        const log = [];
        const { report, details } = await core.tdValidator(
            JSON.stringify(td),
            (m) => log.push(String(m)),
            { checkDefaults: true, checkJsonLd: true, checkTmConformance: false },
        );
        const checks = { ...report, ...details };
        for (const [check, result] of Object.entries(checks)) {
            if (result === "failed") {
                failed = true;
                console.log(`FAIL ${name}: ${check}\n  ${log.join("\n  ")}`);
            } else if (result === "warning") {
                console.log(`warning ${name}: ${check}`);
            }
        }
    }
    if (failed) process.exit(1);
    console.log("playground: all checks passed");
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
