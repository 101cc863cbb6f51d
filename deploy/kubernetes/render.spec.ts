// Proves every committed manifest of deploy/kubernetes is what the renderers make of the catalogs today, so a hand
// edit or a catalog change without `npm run deploy:render` fails the suite, and that the kustomization applies
// every rendered manifest but the example Secrets.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { APPLIED_FILES, KUSTOMIZATION_PATH, renderings } from './render';

describe('the rendered Kubernetes manifests', () => {
  it.each(renderings().map(([file, text]) => [path.basename(file), file, text]))(
    '%s is what the renderer makes now (run npm run deploy:render when this fails)',
    (_name, file, text) => {
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
    },
  );

  it('are all applied by the kustomization, but the example Secrets', () => {
    const yamlFiles = fs
      .readdirSync(__dirname)
      .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    const { resources } = parse(fs.readFileSync(KUSTOMIZATION_PATH, 'utf8')) as { resources: string[] };
    expect(resources).toEqual([...APPLIED_FILES]);
    expect([...resources, 'secrets.example.yaml'].sort()).toEqual(yamlFiles.sort());
    expect(
      renderings()
        .map(([file]) => path.basename(file))
        .sort(),
    ).toEqual([...yamlFiles, 'kustomization.yaml'].sort());
  });
});
