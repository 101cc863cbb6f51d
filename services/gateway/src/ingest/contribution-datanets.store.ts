import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BATCH_EVENTS_MAX } from '@tributary/producer';
import type { ContributionClaim } from './contribution-scope';
import { GroupCommitter } from './group-commit';

const QUEUED_ROWS_MAX = 100_000;
const overloaded = (queued: number) => new Error(`${queued} contribution rows are already waiting for the database`);

/**
 * The datanet of each contribution the gateway accepted a submission of (table
 * gateway.contribution_datanets). A submission's row is written before its event is sent, so a
 * contribution in Kafka through the gateway is always known here; the first datanet recorded for an
 * id keeps it. Submissions and lookups of concurrent requests share one statement per round.
 */
@Injectable()
export class ContributionDatanetStore {
  private readonly rounds = new GroupCommitter<ContributionClaim, string | null>(
    (claims) => this.recordAndRead(claims),
    BATCH_EVENTS_MAX,
    QUEUED_ROWS_MAX,
    overloaded,
  );

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records the submissions among `claims` (where no datanet holds their id yet) and answers the
   * datanet the table holds for every claimed contribution id after that; absent: unknown to the gateway.
   */
  async resolve(claims: readonly ContributionClaim[]): Promise<Map<string, string>> {
    const datanets = await Promise.all(claims.map((claim) => this.rounds.submit(claim)));
    const recorded = new Map<string, string>();
    claims.forEach((claim, index) => {
      const datanetId = datanets[index];
      if (datanetId !== null && datanetId !== undefined) recorded.set(claim.contributionId, datanetId);
    });
    return recorded;
  }

  /**
   * One statement: insert the submissions (the first of a round per id wins), and read what was there
   * before. The read sees the statement's snapshot, so a row another gateway instance inserted while
   * this one ran is neither inserted nor read; those few ids are read again.
   */
  private async recordAndRead(claims: readonly ContributionClaim[]): Promise<Array<string | null>> {
    const rows = await this.dataSource.query<Array<{ contribution_id: string; datanet_id: string }>>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(contribution_id, datanet_id, n)
       ), inserted AS (
         INSERT INTO contribution_datanets (contribution_id, datanet_id)
         SELECT DISTINCT ON (contribution_id) contribution_id, datanet_id FROM input WHERE datanet_id IS NOT NULL ORDER BY contribution_id, n
         ON CONFLICT (contribution_id) DO NOTHING
         RETURNING contribution_id, datanet_id
       )
       SELECT contribution_id, datanet_id FROM inserted
       UNION ALL
       SELECT contribution_id, datanet_id FROM contribution_datanets WHERE contribution_id IN (SELECT contribution_id FROM input)`,
      [claims.map((claim) => claim.contributionId), claims.map((claim) => claim.datanetId)],
    );
    const byId = new Map(rows.map((row) => [row.contribution_id, row.datanet_id]));
    const raced = [
      ...new Set(
        claims
          .filter((claim) => claim.datanetId !== null && !byId.has(claim.contributionId))
          .map((claim) => claim.contributionId),
      ),
    ];
    if (raced.length > 0) {
      const late = await this.dataSource.query<Array<{ contribution_id: string; datanet_id: string }>>(
        `SELECT contribution_id, datanet_id FROM contribution_datanets WHERE contribution_id = ANY($1::text[])`,
        [raced],
      );
      for (const row of late) byId.set(row.contribution_id, row.datanet_id);
    }
    return claims.map((claim) => byId.get(claim.contributionId) ?? null);
  }
}
