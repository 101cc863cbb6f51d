// Proves that the attribution metrics label a DLQ record by the field its reason names, with list indexes
// folded and anything else as "other", so the label's values stay a small set whatever the records hold;
// and that a decided batch moves the counter and histograms.
import fc from 'fast-check';
import { AttributionMetrics, rejectedField } from '../src/metrics/attribution-metrics';

describe('the field of a DLQ reason', () => {
  it('is the name before the colon, list indexes folded', () => {
    expect(rejectedField('feeMinor: at most 1000000000, got 1000000001')).toBe('feeMinor');
    expect(rejectedField('attributions[3].scorePpm: must be at least 0')).toBe('attributions[].scorePpm');
    expect(rejectedField('modelId: UNKNOWN_MODEL m-9 is not registered as of 5')).toBe('modelId');
    expect(rejectedField('(no ce_type): content-type: must be application/avro')).toBe('other');
    expect(rejectedField('no colon at all')).toBe('other');
  });

  it('never carries an index and is at most 64 characters, for any reason', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (reason) => {
        const field = rejectedField(reason);
        expect(field.length).toBeLessThanOrEqual(64);
        expect(field).not.toMatch(/\[\d+\]/);
      }),
    );
  });
});

describe('a decided batch', () => {
  it('counts its decisions and observes its size, duration and ordering wait', async () => {
    const metrics = new AttributionMetrics();
    metrics.batchDecided({ records: 10, decisions: 9, orderingWaitMs: 40, durationMs: 120 });
    metrics.rejected('feeMinor: at most 1000000000, got 1000000001');
    const text = await metrics.registry.metrics();
    expect(text).toContain('attribution_decisions_total 9');
    expect(text).toContain('attribution_records_rejected_total{field="feeMinor"} 1');
    expect(text).toContain('attribution_batch_size_records_sum 10');
    expect(text).toContain('attribution_batch_duration_seconds_sum 0.12');
    expect(text).toContain('attribution_ordering_wait_seconds_sum 0.04');
  });
});

describe('skipped re-deliveries', () => {
  it('are counted by source topic under the name the ledger projector uses', async () => {
    const metrics = new AttributionMetrics();
    metrics.duplicatesSkipped('tributary.inferences', 2);
    metrics.duplicatesSkipped('tributary.inferences', 1);
    expect(await metrics.registry.metrics()).toContain('duplicates_skipped_total{topic="tributary.inferences"} 3');
  });
});
