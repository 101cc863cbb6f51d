// Attack tests of issue 19 item 5: a datanet's owner sets the terms models use it on, and the operator (not the model) sets the protocol's share. A model breaking a datanet's terms is refused with the rule, at registration (the table fold) and at every decision; terms tightened later refuse only later decisions; each decision records and explains the terms it used.
import {
  AttributionInputError,
  decideAttribution,
  explain,
  foldTableRecords,
  termsBreaches,
  type AttributionInput,
  type DatanetState,
  type SplitPolicy,
  type TableEvent,
  type TableRecord,
} from '@tributary/attribution';
import { anInput, creditsOf } from './fixtures';

const POLICY: SplitPolicy = { version: 2, protocolBps: 1000 };

/** Mallory's model m-1 gives the data nothing (split 10/90/0) and is trained on carol's dn-1. */
function mallorysInput(datanet: Partial<DatanetState>, policy: SplitPolicy | undefined = POLICY): AttributionInput {
  const base = anInput();
  return {
    ...base,
    model: { ...base.model, owner: 'mallory', split: { protocolBps: 1000, modelBps: 9000, dataBps: 0 } },
    datanets: [{ datanetId: 'dn-1', owner: 'carol', curatorShareBps: 1000, ...datanet }],
    ...(policy === undefined ? {} : { policy }),
  };
}

function thrown(action: () => unknown): AttributionInputError {
  try {
    action();
  } catch (error) {
    if (error instanceof AttributionInputError) return error;
    throw error;
  }
  throw new Error('expected an AttributionInputError');
}

describe('termsBreaches: the pure rule', () => {
  const model = { modelId: 'm-1', owner: 'mallory', dataBps: 0 };

  it('given a datanet with minDataBps 5000 owned by someone else, then a model giving dataBps 0 breaks the minimum and, with an owner list, the list', () => {
    expect(
      termsBreaches(model, [
        { datanetId: 'dn-1', owner: 'carol', curatorShareBps: 0, minDataBps: 5000, allowedModelOwners: ['carol'] },
      ]),
    ).toEqual([
      { datanetId: 'dn-1', term: 'allowedModelOwners', allowed: ['carol'], actual: 'mallory' },
      { datanetId: 'dn-1', term: 'minDataBps', required: 5000, actual: 0 },
    ]);
  });

  it('given datanets without terms, with a minimum the model meets, or a list naming its owner, then nothing is broken', () => {
    expect(
      termsBreaches({ ...model, dataBps: 5000 }, [
        { datanetId: 'dn-0', owner: 'carol', curatorShareBps: 0 },
        { datanetId: 'dn-1', owner: 'carol', curatorShareBps: 0, minDataBps: 5000, allowedModelOwners: null },
        {
          datanetId: 'dn-2',
          owner: 'carol',
          curatorShareBps: 0,
          minDataBps: 0,
          allowedModelOwners: ['mallory', 'carol'],
        },
      ]),
    ).toEqual([]);
  });

  it('given an empty owner list, then no model owner may use the datanet', () => {
    expect(
      termsBreaches(model, [{ datanetId: 'dn-1', owner: 'carol', curatorShareBps: 0, allowedModelOwners: [] }]),
    ).toEqual([{ datanetId: 'dn-1', term: 'allowedModelOwners', allowed: [], actual: 'mallory' }]);
  });

  it('given several datanets, then breaches are ordered by datanet id, each naming its datanet', () => {
    const breaches = termsBreaches(model, [
      { datanetId: 'dn-b', owner: 'carol', curatorShareBps: 0, minDataBps: 1 },
      { datanetId: 'dn-a', owner: 'carol', curatorShareBps: 0, minDataBps: 2 },
    ]);
    expect(breaches.map((breach) => breach.datanetId)).toEqual(['dn-a', 'dn-b']);
  });
});

describe("a decision for a model breaking its datanet's terms", () => {
  it('given dataBps 0 on a datanet with minDataBps 5000 owned by carol, when decided, then it is refused with the rule, the datanet, the term and the values', () => {
    const error = thrown(() => decideAttribution(mallorysInput({ minDataBps: 5000, allowedModelOwners: ['carol'] })));
    expect(error.rule).toBe('DATANET_TERMS');
    expect(error.message).toContain('DATANET_TERMS');
    expect(error.message).toContain('datanet dn-1 requires minDataBps 5000; model m-1 gives dataBps 0');
    expect(error.message).toContain(
      'datanet dn-1 admits only model owners [carol] (allowedModelOwners); model m-1 is owned by mallory',
    );
  });

  it('given the terms tightened after a first decision, then only the later decision is refused, and the first still recomputes from its recorded inputs', () => {
    const first = decideAttribution(mallorysInput({ minDataBps: 0 }));
    expect(first.inputsSeen.datanets).toEqual([
      { datanetId: 'dn-1', owner: 'carol', curatorShareBps: 1000, minDataBps: 0, allowedModelOwners: null },
    ]);
    const later = {
      ...mallorysInput({ minDataBps: 5000 }),
      inference: { ...anInput().inference, inferenceId: 'inf-2' },
    };
    expect(thrown(() => decideAttribution(later)).rule).toBe('DATANET_TERMS');
    expect(decideAttribution(first.inputsSeen)).toEqual(first);
  });

  it('given a decision made under terms, when explained, then the terms used are shown per datanet', () => {
    const decision = decideAttribution(mallorysInput({ minDataBps: 0, allowedModelOwners: ['mallory'] }));
    expect(explain(decision)).toContain(
      "Terms of datanet dn-1 used: minimum data share 0.00% (the model gives 0.00%), open to model owners mallory (the model's owner is mallory).",
    );
  });
});

describe("policy v2: the protocol's share is the operator's, not the model's", () => {
  it('given a model registering protocolBps 0, when decided under a 10% policy, then the protocol still gets 10% and the model owner the rest beside the data share', () => {
    const input = {
      ...anInput({ policy: POLICY }),
      model: { ...anInput().model, split: { protocolBps: 0, modelBps: 8000, dataBps: 2000 } },
    };
    const decision = decideAttribution(input);
    expect(decision).toMatchObject({ policyVersion: 2, split: { protocolBps: 1000, modelBps: 7000, dataBps: 2000 } });
    expect(creditsOf(decision.postings)).toEqual({
      'contributor:dave': 180n,
      'datanet-owner:carol': 20n,
      'model-owner:alice': 700n,
      'protocol:tributary': 100n,
    });
    expect(decision.inputsSeen.policy).toEqual(POLICY);
    expect(explain(decision)).toContain(
      "Policy v2: the protocol's 10.00% is the operator's policy, the data share 20.00% is the model's own, the model owner keeps the remaining 70.00%.",
    );
    expect(decideAttribution(decision.inputsSeen)).toEqual(decision);
  });

  it('given a model asking more data share than the protocol leaves, when decided, then it is refused under PROTOCOL_POLICY', () => {
    const input = {
      ...anInput({ policy: POLICY }),
      model: { ...anInput().model, split: { protocolBps: 0, modelBps: 500, dataBps: 9500 } },
    };
    const error = thrown(() => decideAttribution(input));
    expect(error.rule).toBe('PROTOCOL_POLICY');
    expect(error.message).toContain('asks dataBps 9500 but policy v2 leaves at most 9000');
  });

  it("given no policy (a v1 decision being recomputed), then the model's registered split applies as before", () => {
    const decision = decideAttribution(anInput());
    expect(decision).toMatchObject({ policyVersion: 1, split: { protocolBps: 1000, modelBps: 7000, dataBps: 2000 } });
    expect(decision.inputsSeen.policy).toBeUndefined();
  });
});

describe('the table fold checks a new model against the terms it knows', () => {
  const progress = { topic: 't', partition: 0, nextOffset: 0n, watermarkMs: -1 };
  let offset = 0n;
  const record = (event: TableEvent): TableRecord => ({ partition: 0, offset: offset++, timestampMs: 1, event });
  const registered = (modelId: string, owner: string, dataBps: number, datanetIds = ['dn-1']): TableEvent => ({
    type: 'ModelRegistered',
    modelId,
    owner,
    datanetIds,
    split: { protocolBps: 1000, modelBps: 9000 - dataBps, dataBps },
  });

  it("given carol's datanet with minDataBps 5000 and only carol's models, then mallory's model giving 0 is rejected with the rule, carol's conforming one is not", () => {
    const result = foldTableRecords(
      progress,
      new Map(),
      [
        record({
          type: 'DatanetCreated',
          datanetId: 'dn-1',
          owner: 'carol',
          curatorShareBps: 1000,
          minDataBps: 5000,
          allowedModelOwners: ['carol'],
        }),
        record(registered('m-mallory', 'mallory', 0)),
        record(registered('m-carol', 'carol', 6000)),
      ],
      { policy: POLICY },
    );
    expect(result.rejected.map(({ reason, detail }) => [reason, detail])).toEqual([
      [
        'DATANET_TERMS',
        'datanet dn-1 admits only model owners [carol] (allowedModelOwners); model m-mallory is owned by mallory; datanet dn-1 requires minDataBps 5000; model m-mallory gives dataBps 0',
      ],
    ]);
    expect(result.versions.map((version) => version.id)).toEqual(['dn-1', 'm-carol']);
  });

  it('given a datanet not known yet, then the registration is accepted (the decision checks the terms)', () => {
    const result = foldTableRecords(
      progress,
      new Map(),
      [record(registered('m-early', 'mallory', 0, ['dn-unknown']))],
      { policy: POLICY },
    );
    expect(result.rejected).toEqual([]);
  });

  it('given a model whose data share exceeds what the protocol policy leaves, then it is rejected under PROTOCOL_POLICY', () => {
    const result = foldTableRecords(
      progress,
      new Map(),
      [
        record({
          ...registered('m-greedy', 'mallory', 0, []),
          split: { protocolBps: 0, modelBps: 0, dataBps: 10_000 },
        } as TableEvent),
      ],
      {
        policy: POLICY,
      },
    );
    expect(result.rejected.map(({ reason }) => reason)).toEqual(['PROTOCOL_POLICY']);
  });

  it("given a DatanetUpdated tightening the terms, then the datanet's next version carries them; reopening to any owner drops the list", () => {
    const result = foldTableRecords(progress, new Map(), [
      record({ type: 'DatanetCreated', datanetId: 'dn-2', owner: 'carol', curatorShareBps: 1000 }),
      record({
        type: 'DatanetUpdated',
        datanetId: 'dn-2',
        curatorShareBps: null,
        minDataBps: 5000,
        allowedModelOwners: ['carol'],
      }),
      record({ type: 'DatanetUpdated', datanetId: 'dn-2', curatorShareBps: null, allowAnyModelOwner: true }),
    ]);
    expect(result.versions.map((version) => version.state)).toEqual([
      { datanetId: 'dn-2', owner: 'carol', curatorShareBps: 1000, minDataBps: 0, allowedModelOwners: null },
      { datanetId: 'dn-2', owner: 'carol', curatorShareBps: 1000, minDataBps: 5000, allowedModelOwners: ['carol'] },
      { datanetId: 'dn-2', owner: 'carol', curatorShareBps: 1000, minDataBps: 5000, allowedModelOwners: null },
    ]);
  });
});
