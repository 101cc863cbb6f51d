#!/usr/bin/env node
// Runs before `npm start` and `npm test` (as their pre-scripts), in plain JavaScript because nothing
// else is installed yet on a fresh clone: installs the npm dependencies exactly as package-lock.json
// pins them, and again whenever the lock file changed since the last install.
'use strict';
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const lockFile = path.join(root, 'package-lock.json');
const marker = path.join(root, 'node_modules', '.tributary-lock-sha256');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) {
  console.error(
    `tributary: Node ${process.versions.node} is too old: install Node 20.12 or newer (one-shot crypto.hash)`,
  );
  process.exit(1);
}

const wanted = createHash('sha256').update(fs.readFileSync(lockFile)).digest('hex');
const installed = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
if (installed !== wanted) {
  console.log('tributary: installing npm dependencies (npm ci)');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('tributary: npm ci failed: check the npm registry is reachable, then run npm ci by hand to see why');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(marker, `${wanted}\n`);
}
