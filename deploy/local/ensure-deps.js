#!/usr/bin/env node
// Runs before `npm start` and `npm test` (as their pre-scripts), in plain JavaScript because nothing
// else is installed yet on a fresh clone: installs the npm dependencies exactly as package-lock.json
// pins them, and again whenever the lock file changed since the last install. The same for deploy/node,
// the pinned Node 22 and 24 LTS the suite also runs on (its own folder and lock file: see deploy/node/pinned-node.ts).
'use strict';
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');

// package.json's engines say what is supported: Node 22 and 24 LTS. Older than 20.12 cannot run the code
// at all (one-shot crypto.hash); 20.12 up to 22 still runs it, past its end of life, with a note.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) {
  console.error(`tributary: Node ${process.versions.node} is too old: install Node 22 or 24 LTS`);
  process.exit(1);
}
if (major < 22 || (major === 22 && minor < 12) || major === 23) {
  console.log(
    `tributary: Node ${process.versions.node} is outside the supported Node 22.12+ and 24 LTS: it runs, untested beyond npm test's unit tier`,
  );
}

/** Runs `npm ci` in `dir` when its lock file differs from the one last installed there. */
function ensureInstalled(dir, { quiet }) {
  const lockFile = path.join(dir, 'package-lock.json');
  const marker = path.join(dir, 'node_modules', '.tributary-lock-sha256');
  const wanted = createHash('sha256').update(fs.readFileSync(lockFile)).digest('hex');
  const installed = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
  if (installed === wanted) return;
  const where = path.relative(root, dir) || '.';
  // npm ci empties node_modules before it installs, and through a symbolic link it empties the folder
  // the link points to, which another checkout may be using: install there, not through the link.
  const modules = path.join(dir, 'node_modules');
  if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
    console.error(
      `tributary: ${path.join(where, 'node_modules')} is a link to ${fs.realpathSync(modules)} and does not match ${path.join(where, 'package-lock.json')}: run npm ci in the checkout that owns it`,
    );
    process.exit(1);
  }
  console.log(`tributary: installing npm dependencies in ${where} (npm ci)`);
  // Quiet installs keep their output and show it only when they fail.
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    console.error(
      `tributary: npm ci failed in ${where}: check the npm registry is reachable, then run npm ci there by hand to see why`,
    );
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(marker, `${wanted}\n`);
}

ensureInstalled(root, { quiet: false });
ensureInstalled(path.join(root, 'deploy', 'node'), { quiet: true });
