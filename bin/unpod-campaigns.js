#!/usr/bin/env node
// Runs the compiled CLI when built (npm run build), else the TypeScript source through tsx.
const path = require('node:path');
const fs = require('node:fs');
const built = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(built)) require('tsx/cjs');
const { main } = require(fs.existsSync(built) ? built : path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
void main();
