// Proves a fresh KRaft format always gets a cluster id kafka-storage accepts: 16 bytes as 22 base64url
// chars, never starting with '-' (which its argument parser takes for an option).
import { newClusterId } from './broker';

describe('newClusterId', () => {
  it('is 16 bytes in base64url and never starts with a dash', () => {
    for (let run = 0; run < 5_000; run += 1) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('draws again when the bytes would start the id with a dash', () => {
    // 0xf8 as the first byte gives '-' (62 << 2) as the first base64url char.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = newClusterId(() => draws.shift()!);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(draws).toHaveLength(0);
  });
});
