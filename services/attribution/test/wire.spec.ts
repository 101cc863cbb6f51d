// Proves with fast-check that an InferenceAttributed event carries enough of its inputs to recompute its decision from the event alone: for any valid policy input, mapping the decision onto the wire and re-running the policy on the event gives the same credits, rejections and fallback, and the wire credits sum to the fee.
import fc from 'fast-check';
import { decideAttribution } from '@tributary/attribution';
import { inputArbitrary } from '../../../libs/attribution/test/fixtures';
import { decisionEventId, recompute, sameCredits, toAttributedEvent } from '../src/decision/wire';

describe('a decision mapped onto InferenceAttributed', () => {
  it('then the policy re-run on the event alone gives the same decision', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const decision = decideAttribution(input);
        const event = toAttributedEvent(decision, 'evt-1', 0n, 'urn:tributary:producer:acme');
        const again = recompute(event, input.inference.method);
        expect(sameCredits(event, again)).toBe(true);
        expect(again.postings).toEqual(decision.postings);
        expect(again.rejected).toEqual(decision.rejected);
        expect(again.fallback).toBe(decision.fallback);
      }),
      { numRuns: 300 },
    );
  });

  it('given policy v2 and datanets with terms, then the event records the protocol share and the terms, and recomputes the same decision', () => {
    fc.assert(
      fc.property(inputArbitrary, fc.integer({ min: 0, max: 10_000 }), (input, protocolBps) => {
        // Terms the model keeps (its data share as the minimum, its owner admitted), and a protocol share that fits.
        const fitting = Math.min(protocolBps, 10_000 - input.model.split.dataBps);
        const datanets = input.datanets.map((datanet) => ({
          ...datanet,
          minDataBps: input.model.split.dataBps,
          allowedModelOwners: [input.model.owner, 'other'],
        }));
        const decision = decideAttribution({ ...input, datanets, policy: { version: 2, protocolBps: fitting } });
        const event = toAttributedEvent(decision, 'evt-1', 0n, 'urn:tributary:producer:acme');
        expect(event.policyVersion).toBe(2);
        expect(event.split.protocolBps).toBe(fitting);
        for (const seen of event.datanetsSeen)
          expect(seen).toMatchObject({
            minDataBps: input.model.split.dataBps,
            allowedModelOwners: [input.model.owner, 'other'],
          });
        const again = recompute(event, input.inference.method);
        expect(again.policyVersion).toBe(2);
        expect(again.split).toEqual(decision.split);
        expect(again.postings).toEqual(decision.postings);
        expect(again.inputsSeen.datanets).toEqual(decision.inputsSeen.datanets);
      }),
      { numRuns: 200 },
    );
  });

  it('then its credits sum to the fee, name the protocol and the model owner, and are sorted by account', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const event = toAttributedEvent(decideAttribution(input), 'evt-1', 0n, 'urn:tributary:producer:acme');
        expect(event.postings.reduce((sum, posting) => sum + posting.amountMinor, 0n)).toBe(input.inference.feeMinor);
        expect(event.postings.every((posting) => posting.amountMinor >= 0n)).toBe(true);
        const accounts = event.postings.map((posting) => posting.accountId);
        expect(accounts).toEqual([...accounts].sort());
        expect(new Set(accounts).size).toBe(accounts.length);
        expect(accounts).toContain(`protocol:${input.protocolId}`);
        expect(accounts).toContain(`model-owner:${input.model.owner}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decisionEventId', () => {
  it('given a short inference id, then it is the id with a prefix; given a long one, then a hash that fits 256 characters', () => {
    expect(decisionEventId('i-1')).toBe('attributed:i-1');
    const long = decisionEventId('x'.repeat(256));
    expect(long).toMatch(/^attributed:sha256:[0-9a-f]{64}$/);
  });
});
