// Proves the ledger API against a ledger built by the real pipeline (inputs published with
// TributaryProducer, the attribution service and the projector run as processes): every endpoint's
// answer against the published facts, statements paginated across pages while new decisions land,
// 404 for unknown ids, 400 naming the parameter and rule, writes through the reader role refused, the
// grants surviving a real rebuild-and-swap, and the dashboard driven in headless Chromium.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { keyPartition } from '@tributary/kafka-client';
import { eventually, withAdmin } from '@tributary/testing';
import { readDigest } from '../../ledger-projector/src/operations/ledger-queries';
import { swap } from '../../ledger-projector/src/operations/rebuild';
import { readerUrlOf } from '../src/ledger-api.config';
import { launchChromium, signIn } from './chromium';
import { Pipeline, SPLITS, type PublishedInference } from './pipeline';

const PHASE_A = 10;
const PHASE_B = 6;
const CONCURRENT = 16;
const sum = (values: Iterable<bigint>) => [...values].reduce((total, value) => total + value, 0n);

describe('the ledger API over a pipeline-built ledger', () => {
  const pipeline = new Pipeline();
  const published: PublishedInference[] = [];
  let betweenPhasesIso = '';
  let payoutOffset = '';

  beforeAll(async () => {
    await pipeline.start();
    for (let index = 0; index < PHASE_A; index += 1) published.push(await pipeline.publishInference(index));
    await pipeline.waitForInferences(PHASE_A);
    // Decisions of phase B are recorded after this instant, those of phase A before it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    betweenPhasesIso = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let index = PHASE_A; index < PHASE_A + PHASE_B; index += 1)
      published.push(await pipeline.publishInference(index));
    await pipeline.waitForInferences(PHASE_A + PHASE_B);
    payoutOffset = (await pipeline.publishPayout('payout-1', 'contributor:alice', 1_000n)).offset;
    await eventually(
      async () => expect((await pipeline.get('/v1/payouts/payout-1')).body?.status).toBe('SETTLED'),
      60_000,
      500,
    );
  }, 300_000);

  afterAll(async () => {
    await pipeline.stop();
  });

  it('lists accounts and balances, and one account with its credits, debits and payouts', async () => {
    const { status, body } = await pipeline.get('/v1/accounts?role=contributor&limit=500');
    expect(status).toBe(200);
    expect(body.items.map((row: { ownerId: string }) => row.ownerId)).toEqual(
      expect.arrayContaining(['alice', 'bob', 'carol', 'dave', 'erin']),
    );
    expect(body.items.map((row: { ownerId: string }) => row.ownerId)).not.toContain('frank');
    const alice = (await pipeline.get('/v1/accounts/contributor:alice')).body;
    const [usdc] = alice.balances;
    expect(BigInt(usdc.creditedMinor) - BigInt(usdc.debitedMinor)).toBe(BigInt(usdc.balanceMinor));
    expect(BigInt(usdc.debitedMinor)).toBe(1_000n);
    expect(alice.payouts).toEqual([{ asset: 'USDC', status: 'SETTLED', count: 1, amountMinor: '1000' }]);
    // The whole ledger balances: every account of every role sums to zero.
    const all = (await pipeline.get('/v1/accounts?limit=500')).body.items as Array<{ balanceMinor: string }>;
    expect(sum(all.map((row) => BigInt(row.balanceMinor)))).toBe(0n);
  });

  it('explains a decision: fee, split, shares summing to the fee, contributors behind credits, and what did not count', async () => {
    const { body } = await pipeline.get('/v1/inferences/inf-3');
    expect(body.feeMinor).toBe((10_000n + 3n * 37n).toString());
    expect(body.modelId).toBe('model-2');
    expect(body.split).toEqual(SPLITS['model-2'].split);
    const credits = body.shares.filter((share: { amountMinor: string }) => BigInt(share.amountMinor) > 0n);
    expect(sum(credits.map((share: { amountMinor: string }) => BigInt(share.amountMinor)))).toBe(BigInt(body.feeMinor));
    expect(body.shares.find((share: { account: string }) => share.account === 'consumer:consumer-0').amountMinor).toBe(
      `-${body.feeMinor}`,
    );
    // inf-3 on model-2 named k-4 (datanet-b: not one of model-2's datanets) and k-7 (not accepted).
    expect(
      body.rejections.map((r: { contributionId: string; reason: string }) => `${r.contributionId}:${r.reason}`).sort(),
    ).toEqual(['k-4:OUTSIDE_MODEL_DATANETS', 'k-7:NOT_ACCEPTED']);
    expect(body.contributors.map((c: { account: string }) => c.account)).toEqual(['contributor:erin']);
    expect(body.lines.join('\n')).toContain('Contribution k-7 did not count (NOT_ACCEPTED)');
  });

  it('gives a contribution its earnings and the inferences that paid it, page by page', async () => {
    const first = (await pipeline.get('/v1/contributions/k-1?limit=2')).body;
    const pages = [first.paidBy.items];
    let cursor = first.paidBy.nextCursor;
    while (cursor) {
      const next = (await pipeline.get(`/v1/contributions/k-1?limit=2&cursor=${cursor}`)).body;
      pages.push(next.paidBy.items);
      cursor = next.paidBy.nextCursor;
    }
    const rows = pages.flat() as Array<{ inferenceId: string; amountMinor: string }>;
    expect(pages.length).toBeGreaterThan(1);
    expect(new Set(rows.map((row) => row.inferenceId)).size).toBe(rows.length);
    expect(sum(rows.map((row) => BigInt(row.amountMinor)))).toBe(BigInt(first.earnings[0].earnedMinor));
    const lineage = (await pipeline.get('/v1/accounts/contributor:alice/contributions')).body.items.map(
      (row: { contributionId: string }) => row.contributionId,
    );
    // k-4 (datanet-b) was only ever named by model-2 inferences, which do not train on datanet-b.
    expect(lineage).toEqual(['k-1']);
  });

  it("sums revenue per model and datanet all time and over a time range, from the decisions' log time", async () => {
    const feesOf = (rows: PublishedInference[], modelId: string) =>
      sum(rows.filter((row) => row.modelId === modelId).map((row) => row.feeMinor)).toString();
    const allTime = (await pipeline.get('/v1/revenue?dimension=model')).body.items;
    expect(
      Object.fromEntries(allTime.map((row: { id: string; revenueMinor: string }) => [row.id, row.revenueMinor])),
    ).toEqual({ 'model-1': feesOf(published, 'model-1'), 'model-2': feesOf(published, 'model-2') });
    const phaseA = published.slice(0, PHASE_A);
    const before = (await pipeline.get(`/v1/revenue?dimension=model&to=${betweenPhasesIso}`)).body.items;
    expect(
      Object.fromEntries(before.map((row: { id: string; revenueMinor: string }) => [row.id, row.revenueMinor])),
    ).toEqual({ 'model-1': feesOf(phaseA, 'model-1'), 'model-2': feesOf(phaseA, 'model-2') });
    const after = (await pipeline.get(`/v1/revenue?dimension=model&from=${betweenPhasesIso}`)).body.items;
    expect(sum(after.map((row: { inferenceCount: number }) => BigInt(row.inferenceCount)))).toBe(BigInt(PHASE_B));
    // The computed range (both ends open) and the projector's running sums agree per datanet.
    const datanets = (await pipeline.get('/v1/revenue?dimension=datanet')).body.items;
    const ranged = (await pipeline.get('/v1/revenue?dimension=datanet&from=2000-01-01T00:00:00Z')).body.items;
    expect(ranged).toEqual(datanets);
    const flow = (await pipeline.get('/v1/flow')).body;
    expect(flow.totalFeeMinor).toBe(sum(published.map((row) => row.feeMinor)).toString());
    expect(
      sum(
        flow.nodes
          .filter((node: { column: number }) => node.column === 1)
          .map((node: { valueMinor: string }) => BigInt(node.valueMinor)),
      ),
    ).toBe(BigInt(flow.totalFeeMinor));
    const earners = (await pipeline.get('/v1/top-earners?role=contributor&limit=3')).body.items;
    expect(earners).toHaveLength(3);
    expect(BigInt(earners[0].earnedMinor) >= BigInt(earners[1].earnedMinor)).toBe(true);
  });

  it('lists payouts and exports a statement as CSV, each entry traced to its inference or payout', async () => {
    const payouts = (await pipeline.get('/v1/payouts?account=contributor:alice')).body.items;
    expect(payouts).toEqual([
      expect.objectContaining({ payoutId: 'payout-1', status: 'SETTLED', rail: 'ach', amountMinor: '1000' }),
    ]);
    const payout = (await pipeline.get('/v1/payouts/payout-1')).body;
    expect(
      payout.entries.map((entry: { account: string; amountMinor: string }) => `${entry.account}=${entry.amountMinor}`),
    ).toEqual(
      expect.arrayContaining([
        'contributor:alice=-1000',
        'clearing:payouts-in-flight=1000',
        'clearing:payouts-in-flight=-1000',
        'settlement:ach=1000',
      ]),
    );
    const csv = await pipeline.get('/v1/accounts/contributor:alice/statement?format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'account,asset,amount_minor,trace_kind,trace_id,transaction_id,posting_index,source_event_id,source_topic,source_partition,source_offset,chain_seq',
    );
    expect(lines.some((line) => line.startsWith('contributor:alice,USDC,-1000,payout,payout-1,'))).toBe(true);
    const statement = (await pipeline.get('/v1/accounts/contributor:alice/statement?limit=1000')).body.items;
    expect(lines.length - 1).toBe(statement.length);
    expect(sum(statement.map((entry: { amountMinor: string }) => BigInt(entry.amountMinor)))).toBe(
      BigInt((await pipeline.get('/v1/accounts/contributor:alice')).body.balances[0].balanceMinor),
    );
    for (const entry of statement.filter((e: { trace: { kind: string } }) => e.trace.kind === 'inference'))
      expect((await pipeline.get(entry.trace.href)).status).toBe(200);
  });

  it('gives the digest with its offsets, the lag, and read-your-writes answers for inference and payout offsets', async () => {
    const digest = (await pipeline.get('/v1/digest')).body;
    expect(digest.digest).toMatch(/^[0-9a-f]{64}$/);
    // The same digest as the projector's own command, producer totals included (the pipeline is at rest).
    const owner = new Client({ connectionString: pipeline.database.url });
    await owner.connect();
    try {
      expect(digest.digest).toBe(await readDigest(owner, 'ledger'));
    } finally {
      await owner.end();
    }
    const lag = (await pipeline.get('/v1/lag')).body;
    expect(BigInt(lag.appliedEvents)).toBe(BigInt(PHASE_A + PHASE_B + 2));
    expect(lag.partitions.length).toBe(12);
    const applied = published[0]!.result;
    const yes = (
      await pipeline.get(
        `/v1/freshness?topic=${applied.topic}&partition=${applied.partition}&offset=${applied.offset}&inferenceId=inf-0`,
      )
    ).body;
    expect(yes).toMatchObject({ reflected: true, stage: 'applied', basis: 'inference-id' });
    const payouts = pipeline.catalog.topics.payouts.name;
    const payoutPartition = (await pipeline.get('/v1/payouts/payout-1')).body.entries.find(
      (e: { sourceTopic: string }) => e.sourceTopic === payouts,
    ).sourcePartition;
    expect(
      (await pipeline.get(`/v1/freshness?topic=${payouts}&partition=${payoutPartition}&offset=${payoutOffset}`)).body
        .reflected,
    ).toBe(true);
    expect(
      (await pipeline.get(`/v1/freshness?topic=${payouts}&partition=${payoutPartition}&offset=999999`)).body,
    ).toMatchObject({ reflected: false, stage: 'projection' });
    const missing = (
      await pipeline.get(
        `/v1/freshness?topic=${applied.topic}&partition=${applied.partition}&offset=999999&inferenceId=inf-never`,
      )
    ).body;
    expect(missing).toMatchObject({ reflected: false, stage: 'attribution' });
  });

  it('answers unknown ids with 404 and bad parameters with 400 naming the parameter and the rule', async () => {
    for (const path of [
      '/v1/accounts/contributor:nobody',
      '/v1/accounts/contributor:nobody/statement',
      '/v1/inferences/inf-none',
      '/v1/contributions/k-none',
      '/v1/payouts/none',
    ]) {
      const { status, body } = await pipeline.get(path);
      expect([path, status, body.error, body.issues]).toEqual([
        path,
        404,
        'not_found',
        [expect.objectContaining({ rule: 'unknown-id' })],
      ]);
    }
    const cases: Array<[string, string, string]> = [
      ['/v1/accounts?limit=501', 'limit', 'max:500'],
      ['/v1/accounts?limit=0', 'limit', 'min:1'],
      [
        '/v1/accounts?role=boss',
        'role',
        'one-of:consumer|contributor|model-owner|datanet-owner|protocol|clearing|settlement|other',
      ],
      ['/v1/accounts?colour=red', 'colour', 'unknown-parameter'],
      ['/v1/accounts?cursor=!!', 'cursor', 'cursor'],
      [
        `/v1/accounts/contributor:alice/statement?cursor=${Buffer.from('["accounts","a","b"]').toString('base64url')}`,
        'cursor',
        'cursor-of:statement',
      ],
      ['/v1/accounts/nocolon', 'account', 'account-id'],
      [`/v1/inferences/${'x'.repeat(257)}`, 'inferenceId', 'max-length:256'],
      ['/v1/revenue', 'dimension', 'required'],
      ['/v1/revenue?dimension=model&from=yesterday', 'from', 'iso-8601-time-with-zone'],
      ['/v1/revenue?dimension=model&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'to', 'after:from'],
      ['/v1/flow?asset=US%20D', 'asset', 'asset-code'],
      ['/v1/freshness?topic=t&partition=-1&offset=1', 'partition', 'min:0'],
      ['/v1/freshness?topic=t&partition=0&offset=abc', 'offset', 'non-negative-int64'],
      [
        `/v1/freshness?topic=${pipeline.catalog.topics.inferences.name}&partition=0&offset=1`,
        'inferenceId',
        `required-with-topic:${pipeline.catalog.topics.inferences.name}`,
      ],
      [
        `/v1/freshness?topic=${pipeline.catalog.topics.models.name}&partition=0&offset=1`,
        'topic',
        expect.stringContaining('one-of:'),
      ],
    ];
    for (const [path, field, rule] of cases) {
      const { status, body } = await pipeline.get(path);
      expect([path, status, body.statusCode, body.error, body.issues]).toEqual([
        path,
        400,
        400,
        'bad_request',
        expect.arrayContaining([{ field, rule }]),
      ]);
    }
    const write = await fetch(`${pipeline.apiUrl}/v1/accounts`, { method: 'POST' });
    expect(write.status).toBe(405);
    const openapi = (await pipeline.get('/docs/openapi.json')).body;
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/v1/accounts',
        '/v1/accounts/{account}/statement',
        '/v1/inferences/{inferenceId}',
        '/v1/contributions/{contributionId}',
        '/v1/revenue',
        '/v1/flow',
        '/v1/payouts',
        '/v1/digest',
        '/v1/lag',
        '/v1/freshness',
      ]),
    );
  });

  it('pages a statement across page boundaries while decisions land: no entry twice, none that existed missed, in key order', async () => {
    const account = 'protocol:tributary';
    const existing = (await pipeline.get(`/v1/accounts/${account}/statement?limit=1000`)).body.items.map(
      (entry: { sourceEventId: string }) => entry.sourceEventId,
    );
    const publishing = (async () => {
      for (let index = PHASE_A + PHASE_B; index < PHASE_A + PHASE_B + CONCURRENT; index += 1)
        published.push(await pipeline.publishInference(index));
    })();
    const seen: Array<{ sourceEventId: string; key: string }> = [];
    let cursor: string | null = null;
    const countAtStart = Number((await pipeline.get(`/v1/accounts/${account}`)).body.balances[0].entryCount);
    do {
      const page: {
        body: {
          items: Array<{ sourceEventId: string; sourceTopic: string; sourcePartition: number; chainSeq: string }>;
          nextCursor: string | null;
        };
      } = await pipeline.get(`/v1/accounts/${account}/statement?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(
        ...page.body.items.map((entry) => ({
          sourceEventId: entry.sourceEventId,
          key: `${entry.sourceTopic}|${String(entry.sourcePartition).padStart(6, '0')}|${entry.chainSeq.padStart(20, '0')}`,
        })),
      );
      cursor = page.body.nextCursor;
      await new Promise((resolve) => setTimeout(resolve, 150));
    } while (cursor);
    await publishing;
    const countAtEnd = Number((await pipeline.get(`/v1/accounts/${account}`)).body.balances[0].entryCount);
    expect(countAtEnd).toBeGreaterThan(countAtStart); // decisions did land while we paged
    const ids = seen.map((entry) => entry.sourceEventId);
    expect(new Set(seen.map((entry) => entry.key)).size).toBe(seen.length);
    expect(ids).toEqual(expect.arrayContaining(existing));
    expect(seen.map((entry) => entry.key)).toEqual([...seen.map((entry) => entry.key)].sort());
    await pipeline.waitForInferences(PHASE_A + PHASE_B + CONCURRENT);
  }, 180_000);

  it('reads through a role that cannot write the read model, and keeps its grants across a rebuild-and-swap', async () => {
    const reader = new Client({ connectionString: readerUrlOf(pipeline.database.url, 'tributary_ledger_reader', '') });
    await reader.connect();
    try {
      await expect(
        reader.query(
          `INSERT INTO ledger.payouts (payout_id, account, asset, amount_minor, epoch, status, requested_event_id) VALUES ('x', 'a', 'USDC', 1, 1, 'REQUESTED', 'e')`,
        ),
      ).rejects.toMatchObject({ code: '25006' });
      // Even in a transaction opened read-write, the grants refuse every write.
      for (const statement of [
        `UPDATE ledger.accounts SET balance_minor = balance_minor + 1`,
        `INSERT INTO ledger.payouts (payout_id, account, asset, amount_minor, epoch, status, requested_event_id) VALUES ('x', 'a', 'USDC', 1, 1, 'REQUESTED', 'e')`,
        `DELETE FROM ledger.ledger_entries`,
        `CREATE TABLE ledger.sneaky (id int)`,
        `TRUNCATE ledger.checkpoints`,
      ]) {
        await reader.query('BEGIN READ WRITE');
        await expect(reader.query(statement)).rejects.toMatchObject({ code: '42501' });
        await reader.query('ROLLBACK');
      }
      expect((await reader.query('SELECT count(*)::int AS n FROM ledger.inferences')).rows[0].n).toBe(
        PHASE_A + PHASE_B + CONCURRENT,
      );
    } finally {
      await reader.end();
    }
    const before = (await pipeline.get('/v1/digest')).body.digest;
    await swap({
      databaseUrl: pipeline.database.url,
      brokers: process.env.KAFKA_BROKERS!.split(','),
      clientId: 'ledger-api-test',
      groupId: pipeline.catalog.groups.ledgerProjector,
      topics: [pipeline.catalog.topics.attributions.name, pipeline.catalog.topics.payouts.name],
      schema: 'ledger_rebuilt',
      batchSizeMax: 500,
      partitionsConcurrently: 2,
    });
    const owner = new Client({ connectionString: pipeline.database.url });
    await owner.connect();
    const retired = (await owner.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ledger_retired_%'`)).rows;
    await owner.end();
    expect(retired).toHaveLength(1); // the live schema really is another one now
    expect((await pipeline.get('/health/ready')).status).toBe(200);
    expect((await pipeline.get('/v1/digest')).body.digest).toBe(before);
    expect((await pipeline.get('/v1/inferences/inf-1')).status).toBe(200);
  }, 120_000);

  it('shows what the projector recorded per producer: nothing deposited, so every credit pending and the payout as debt', async () => {
    // Every inference here came from the pipeline's producer (its ce_source), which never paid anything in.
    await pipeline.waitForInferences(published.length);
    const fees = sum(published.map((row) => row.feeMinor));
    const funding = (await pipeline.get('/v1/funding')).body;
    expect(funding.producers).toEqual([
      expect.objectContaining({
        producer: 'urn:tributary:test',
        asset: 'USDC',
        feesReportedMinor: fees.toString(),
        depositsMinor: '0',
        shortfallMinor: fees.toString(),
        debtMinor: '1000',
      }),
    ]);
    expect(funding.reconciliation).toMatchObject({
      holds: true,
      problems: [],
      lines: [expect.objectContaining({ asset: 'USDC', settledMinor: '1000', debtMinor: '1000', holds: true })],
    });
    const alice = (await pipeline.get('/v1/accounts/contributor:alice/funding')).body.assets[0];
    expect(alice).toMatchObject({
      backedMinor: '0',
      payableMinor: '0',
      paidOrInFlightMinor: '1000',
      overpaidMinor: '1000',
      pendingFundingMinor: alice.earnedMinor,
      waitingOn: [{ producer: 'urn:tributary:test', amountMinor: alice.earnedMinor }],
    });
    expect(
      (await pipeline.get(`/v1/producers/${encodeURIComponent('urn:tributary:test')}/funding`)).body.assets[0]
        .shortfallMinor,
    ).toBe(fees.toString());
  });

  describe('the dashboard in headless Chromium', () => {
    it("draws the flow with the API's totals, clicks through to a contributor, and saves a screenshot", async () => {
      const browser = await launchChromium();
      if (browser === null) return;
      try {
        const page = await browser.newPage();
        await signIn(page, pipeline.apiUrl, pipeline.operatorCredential);
        await page.waitForSelector('[data-testid="flow-diagram"]');
        const flow = (await pipeline.get('/v1/flow')).body;
        const revenue = (await pipeline.get('/v1/revenue?dimension=model')).body.items as Array<{
          revenueMinor: string;
        }>;
        const shown = (selector: string) =>
          page.textContent(selector).then((text: string | null) => BigInt((text ?? '').replace(/,/g, '')));
        expect(await shown('[data-testid="flow-total"]')).toBe(BigInt(flow.totalFeeMinor));
        expect(await shown('[data-testid="flow-total"]')).toBe(sum(revenue.map((row) => BigInt(row.revenueMinor))));
        expect(await shown('[data-testid="flow-column-1-total"]')).toBe(BigInt(flow.totalFeeMinor));
        const drawn = await page.$$eval(
          '[data-testid="flow-diagram"] g[data-column="1"]',
          (nodes: Array<{ getAttribute(name: string): string | null }>) =>
            nodes.map((node) => node.getAttribute('data-value') ?? '0'),
        );
        expect(sum(drawn.map((value: string) => BigInt(value)))).toBe(BigInt(flow.totalFeeMinor));
        // The function runs in the page; the test's tsconfig has no DOM types, hence the string.
        await page.waitForFunction(
          `/events\\/s/.test(document.querySelector('[data-testid="lag"]')?.textContent ?? '')`,
        );
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-flow.png'), fullPage: true });

        const earner = (await pipeline.get('/v1/top-earners?role=contributor&limit=1')).body.items[0];
        await page.click(`#top-earners a[data-account="${earner.account}"]`);
        await page.waitForSelector('[data-testid="lineage-row"]');
        expect(await page.textContent('[data-testid="account-id"]')).toBe(earner.account);
        expect(await shown('[data-testid="balance-USDC"]')).toBe(BigInt(earner.balanceMinor));
        const rows = await page.$$('[data-testid="statement-row"]');
        expect(rows.length).toBe(
          Math.min(50, Number((await pipeline.get(`/v1/accounts/${earner.account}`)).body.balances[0].entryCount)),
        );
        await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-contributor.png'), fullPage: true });
        expect(existsSync(path.join(ARTIFACTS, 'dashboard-contributor.png'))).toBe(true);
      } finally {
        await browser.close();
      }
    }, 120_000);

    it("signed in as a participant, shows that participant's own pages and nothing of anyone else's", async () => {
      const browser = await launchChromium();
      if (browser === null) return;
      try {
        const page = await browser.newPage();
        await signIn(page, pipeline.apiUrl, await pipeline.credential('participant:contributor:alice'));
        await page.waitForSelector('[data-testid="my-account"]');
        expect(
          await page.$$eval('[data-testid="my-account"]', (rows: Array<{ textContent: string | null }>) =>
            rows.map((row) => row.textContent),
          ),
        ).toEqual(['contributor:alice']);
        // No flow, no top earners, no operator status.
        expect(await page.$('[data-testid="flow-diagram"]')).toBeNull();
        expect(await page.$('#top-earners')).toBeNull();
        expect(await page.isVisible('[data-testid="lag"]')).toBe(false);
        await page.click('[data-testid="my-account"] a[data-account="contributor:alice"]');
        await page.waitForSelector('[data-testid="lineage-row"]');
        expect(await page.textContent('[data-testid="account-id"]')).toBe('contributor:alice');
        const alice = (await pipeline.get('/v1/accounts/contributor:alice')).body;
        expect(BigInt((await page.textContent('[data-testid="balance-USDC"]'))!.replace(/,/g, ''))).toBe(
          BigInt(alice.balances[0].balanceMinor),
        );
        expect((await page.$$('[data-testid="statement-row"]')).length).toBe(
          Math.min(50, Number(alice.balances[0].entryCount)),
        );
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-participant.png'), fullPage: true });
        // Another participant's page is refused by the API, and the dashboard says so.
        await page.goto(`${pipeline.apiUrl}/dashboard/#/account/${encodeURIComponent('contributor:bob')}`);
        await page.waitForSelector('[data-testid="error"]');
        expect(await page.textContent('[data-testid="error"]')).toContain('403');
        expect(await page.$('[data-testid="balance-USDC"]')).toBeNull();
      } finally {
        await browser.close();
      }
    }, 120_000);

    it('signed in as an analyst, shows the flow of value and revenue, and no account', async () => {
      const browser = await launchChromium();
      if (browser === null) return;
      try {
        const page = await browser.newPage();
        await signIn(page, pipeline.apiUrl, await pipeline.credential('analyst'));
        await page.waitForSelector('[data-testid="flow-diagram"]');
        const flow = (await pipeline.get('/v1/flow')).body;
        expect(BigInt((await page.textContent('[data-testid="flow-total"]'))!.replace(/,/g, ''))).toBe(
          BigInt(flow.totalFeeMinor),
        );
        expect((await page.$$('[data-testid="revenue-model-row"]')).length).toBe(2);
        expect((await page.$$('[data-testid="revenue-datanet-row"]')).length).toBeGreaterThan(0);
        // Contributors in the flow are not links for an analyst, and there is no top-earners table.
        expect(await page.$('[data-testid="flow-diagram"] a[data-account]')).toBeNull();
        expect(await page.$('#top-earners')).toBeNull();
        expect(await page.textContent('[data-testid="whoami"]')).toBe('analyst');
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-analyst.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    }, 120_000);
  });

  it('holds GET /v1/freshness?waitMs until the ledger reflects the inference or the offset, or answers not reflected at its deadline', async () => {
    const inferences = pipeline.catalog.topics.inferences.name;
    const ask = (inferenceId: string, waitMs: number) =>
      pipeline.get(
        `/v1/freshness?topic=${inferences}&partition=0&offset=999999&inferenceId=${inferenceId}&waitMs=${waitMs}`,
      );
    // Asked before the inference exists: one request answers once the ledger holds its decision.
    const startedAt = Date.now();
    const waiting = ask('inf-100', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await pipeline.publishInference(100);
    const answered = await waiting;
    expect([answered.status, answered.body]).toEqual([
      200,
      expect.objectContaining({ inferenceId: 'inf-100', reflected: true, stage: 'applied' }),
    ]);
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    // Never reflected: not reflected at the deadline, composed as without waitMs.
    const beforeDeadline = Date.now();
    const never = await ask('inf-never', 400);
    expect(Date.now() - beforeDeadline).toBeGreaterThanOrEqual(400);
    expect([never.status, never.body]).toEqual([
      200,
      expect.objectContaining({ reflected: false, stage: 'attribution' }),
    ]);
    // On a topic the projector reads: held until it applied the offset. The decision of inf-101 goes to
    // the attributions partition numbered like its inference's, at that partition's end offset now.
    const attributions = pipeline.catalog.topics.attributions.name;
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(attributions));
    const partition = keyPartition('inf-101', ends.length);
    const offset = ends.find((end) => end.partition === partition)!.high;
    const held = pipeline.get(
      `/v1/freshness?topic=${attributions}&partition=${partition}&offset=${offset}&waitMs=30000`,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const decided = await pipeline.publishInference(101);
    expect(decided.result.partition).toBe(partition);
    const applied = await held;
    expect([applied.status, applied.body]).toEqual([200, expect.objectContaining({ reflected: true })]);
    // Bad waits are refused before anything is read.
    for (const [waitMs, rule] of [
      ['abc', 'non-negative-integer'],
      ['-1', 'non-negative-integer'],
      ['30001', 'max:30000'],
    ]) {
      const { status, body } = await pipeline.get(
        `/v1/freshness?topic=${inferences}&partition=0&offset=0&inferenceId=inf-100&waitMs=${waitMs}`,
      );
      expect([waitMs, status, body.issues]).toEqual([waitMs, 400, [{ field: 'waitMs', rule }]]);
    }
  }, 90_000);
});

const ARTIFACTS = path.resolve(__dirname, '../../../artifacts/ledger-api');
