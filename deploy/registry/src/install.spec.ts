// Proves the registry's archive is checked against the pinned SHA-256 before it is unpacked, and that a mismatch is
// one line naming both digests and what to do, by hashing small files of known content.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProvisionError, formatProvisionError } from '@tributary/kafka-provisioner';
import { assertArchiveDigest, sha256File } from './install';
import { REGISTRY_ARCHIVE_SHA256, REGISTRY_ARTIFACT, REGISTRY_IMAGE, REGISTRY_VERSION } from './version';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-install-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the archive digest', () => {
  it('hashes a file larger than its 1 MiB chunk to the same SHA-256 as one pass', () => {
    const file = path.join(dir, 'a.tar.gz');
    const bytes = Buffer.alloc(3 * (1 << 20) + 7, 1);
    fs.writeFileSync(file, bytes);
    expect(sha256File(file)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('accepts the pinned digest and refuses any other with one line naming both', () => {
    const file = path.join(dir, 'apicurio-registry-app-3.3.3-all.tar.gz');
    fs.writeFileSync(file, 'not the release');
    const actual = sha256File(file);
    expect(() => assertArchiveDigest(file, actual)).not.toThrow();
    let caught: unknown;
    try {
      assertArchiveDigest(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProvisionError);
    const line = formatProvisionError(caught as ProvisionError);
    expect(line).toContain(`has SHA-256 ${actual}, not the pinned ${REGISTRY_ARCHIVE_SHA256}`);
    expect(line).not.toContain('\n');
  });
});

describe('the pin', () => {
  it('names one release everywhere: the Maven artifact, the image and the digest', () => {
    expect(REGISTRY_ARTIFACT).toBe(`io.apicurio:apicurio-registry-app:${REGISTRY_VERSION}:tar.gz:all`);
    expect(REGISTRY_IMAGE).toBe(`apicurio/apicurio-registry:${REGISTRY_VERSION}`);
    expect(REGISTRY_ARCHIVE_SHA256).toMatch(/^[0-9a-f]{64}$/);
  });
});
