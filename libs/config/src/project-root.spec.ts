// Proves projectRoot() names the repository's root from the source tree (the compiled tree's side is proved by
// deploy/build/compiled.int-spec.ts, which runs the compiled module with plain node).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-root';

describe('projectRoot', () => {
  it("is the folder holding Tributary's package.json and the services", () => {
    const root = projectRoot();
    expect(path.isAbsolute(root)).toBe(true);
    expect((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string }).name).toBe(
      'tributary',
    );
    expect(existsSync(path.join(root, 'services', 'ledger-api', 'dashboard', 'index.html'))).toBe(true);
  });
});
