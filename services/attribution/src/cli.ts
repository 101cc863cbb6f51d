import 'reflect-metadata';
import { databaseEnv, kafkaClientOptions, kafkaEnv, redactUrlsIn } from '@tributary/config';
import { Command, InvalidArgumentError } from 'commander';
import { createKafkaClient } from '@tributary/kafka-client';
import type { DataSource } from 'typeorm';
import { TOPICS } from '@tributary/contracts';
import { runOwnerStep, serviceDatabaseConfig, withDataSource } from '@tributary/persistence';
import { attributionConfig, tablesGroupId } from './attribution.config';
import { ATTRIBUTION_SCHEMA, dataSourceOptions, ownerMigrations } from './database/data-source-options';
import { DecisionStore } from './decision/decision-store';
import { explainStored } from './explain/explain';
import { StateStore } from './state/state-store';

/**
 * Operator commands of the attribution service:
 *   migrate                 the owner step: migrations, the service's role and its grants (DATABASE_URL: the owner)
 *   explain <inferenceId>   prints the decision of one inference line by line
 *   rebuild-state           forgets the folded table state so the next start folds the table topics from offset 0
 */
const INFERENCE_ID_LENGTH_MAX = 256;

function withDatabase<T>(use: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const { DATABASE_URL } = databaseEnv();
  return withDataSource(DATABASE_URL, ATTRIBUTION_SCHEMA, dataSourceOptions(DATABASE_URL, 2), use);
}

function inferenceIdArgument(value: string): string {
  if (value.length === 0 || value.length > INFERENCE_ID_LENGTH_MAX) {
    throw new InvalidArgumentError(`inferenceId must be 1 to ${INFERENCE_ID_LENGTH_MAX} characters`);
  }
  return value;
}

const program = new Command('attribution').description('Tributary attribution service commands').exitOverride();

program
  .command('migrate')
  .description(
    "the owner step, for a service started with ATTRIBUTION_MIGRATE=false: its schema's migrations, its role and the role's grants, with DATABASE_URL (the owner's connection)",
  )
  .action(async () => {
    const database = serviceDatabaseConfig('attribution');
    await runOwnerStep(database.takeOwnerUrl(), database, ownerMigrations);
    process.stdout.write(`attribution: schema ${database.schema} migrated; role ${database.role} may use it\n`);
  });

program
  .command('explain')
  .argument('<inferenceId>', 'id of a decided inference', inferenceIdArgument)
  .description('print the decision of one inference line by line: fee, shares, scores, rejections')
  .action(async (inferenceId: string) => {
    const lines = await withDatabase(async (dataSource) => {
      const stored = await new DecisionStore(dataSource).find(inferenceId);
      return stored === null ? null : explainStored(stored);
    });
    if (lines === null) {
      process.stderr.write(`attribution: inferenceId: no decision for ${inferenceId}\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });

program
  .command('rebuild-state')
  .description(
    'forget the table state and its offsets (stop every instance first); the next start folds the table topics from offset 0',
  )
  .action(async () => {
    const config = attributionConfig();
    const groupId = tablesGroupId(config);
    // Resetting a group's offsets is an operator's act: this command authenticates as the operator by default.
    const admin = createKafkaClient(kafkaClientOptions(kafkaEnv())).admin();
    await admin.connect();
    try {
      // Kafka refuses to reset the offsets of a group with live members, which is the check that the service is stopped.
      for (const topic of [TOPICS.datanets.name, TOPICS.contributions.name, TOPICS.models.name]) {
        await admin.resetOffsets({ groupId, topic, earliest: true });
      }
    } finally {
      await admin.disconnect();
    }
    await withDatabase((dataSource) => new StateStore(dataSource).reset(groupId));
    process.stdout.write(
      `attribution: table state and group ${groupId} reset; the next start folds the table topics from offset 0\n`,
    );
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
  process.stderr.write(`attribution: ${redactUrlsIn((error as Error).message)}\n`);
  process.exitCode = 1;
});
