// Regenerates libs/contracts/src/schemas/generated/ from schemas/ (the Avro source of truth), after
// proving every new schema version compatible with the previous one: an incompatible schema must
// never get as far as generated types that other code compiles against.
// Run: npx ts-node --transpile-only -r tsconfig-paths/register libs/contracts/scripts/generate-types.ts
import * as fs from 'fs';
import * as path from 'path';
import { assertCatalogCompatible } from '../src/schemas/compatibility';
import { renderGeneratedFiles } from '../src/schemas/codegen';
import { loadSchemaCatalog } from '../src/schemas/schema-files';

const GENERATED_DIR = path.resolve(__dirname, '../src/schemas/generated');

function main(): void {
  const catalog = loadSchemaCatalog();
  assertCatalogCompatible(catalog);
  fs.mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [file, content] of renderGeneratedFiles(catalog)) {
    const target = path.join(GENERATED_DIR, file);
    const unchanged = fs.existsSync(target) && fs.readFileSync(target, 'utf8') === content;
    if (!unchanged) fs.writeFileSync(target, content);
    process.stdout.write(`${unchanged ? 'unchanged' : 'wrote'} ${path.relative(process.cwd(), target)}\n`);
  }
  process.stdout.write(
    `${catalog.events.length} event types, ${catalog.events.reduce((sum, event) => sum + event.versions.length, 0)} schema versions\n`,
  );
}

main();
