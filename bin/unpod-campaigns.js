#!/usr/bin/env node
// Runs the compiled CLI (dist/, written by `npm run build`; an installed package ships it built).
// In a checkout, `npm run cli -- <args>` runs the TypeScript sources instead.
const path = require('node:path');
const fs = require('node:fs');
const built = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(built)) {
  console.error(
    `error: ${built} is missing: run \`npm run build\` (or \`npm run cli -- <args>\` in a checkout)`,
  );
  process.exit(1);
}
void require(built).main();
