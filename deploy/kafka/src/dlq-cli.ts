import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { deadLetterTopicName, topicPrefix } from '@tributary/contracts';
import {
  dlqDepths,
  formatDeadLetter,
  formatListLine,
  formatRedriveOutcome,
  listDeadLetters,
  operatorDlqContext,
  parseLimit,
  parseOffset,
  parseOffsets,
  parseReasonContains,
  redriveDeadLetters,
  resolveGroup,
  showDeadLetter,
  type DlqContext,
} from './dlq';

const out = (line: string) => process.stdout.write(`${line}\n`);

function parsePrefix(value: string): string {
  if (!/^[A-Za-z0-9._-]{0,100}$/.test(value))
    throw new InvalidArgumentError('--topic-prefix must be at most 100 letters, digits, ".", "_" or "-"');
  return value;
}

interface Common {
  readonly group: string;
  readonly topicPrefix?: string;
  readonly json?: boolean;
}

/** The context of one command: the operator's client from the environment; tests may pass their own. */
export type DlqContextFactory = (topicPrefix: string) => DlqContext;

/** `dlq list|show|redrive|depth`: the operator's view of every consumer group's dead letters. */
export function addDlqCommands(program: Command, contextFor: DlqContextFactory = operatorDlqContext): void {
  const prefixOption = [
    '--topic-prefix <prefix>',
    'topic prefix of the environment (default: TRIBUTARY_TOPIC_PREFIX)',
    parsePrefix,
  ] as const;
  const groupOption = [
    '--group <name>',
    'consumer group, e.g. ledger-projector or tributary.ledger-projector',
  ] as const;
  const setUp = (opts: { group?: string; topicPrefix?: string }) => {
    const context = contextFor(opts.topicPrefix ?? topicPrefix());
    return { context, group: opts.group === undefined ? '' : resolveGroup(opts.group, context.catalog) };
  };
  const dlq = program
    .command('dlq')
    .description("dead letters: list, show, re-drive after a fix, and each group's DLQ depth");
  dlq
    .command('list')
    .description(
      "a group's dead letters in offset order: state (waiting or re-driven), failed at, source, event, reason",
    )
    .requiredOption(...groupOption)
    .option('--limit <n>', `at most this many (1-10000)`, parseLimit, 50)
    .option('--reason-contains <text>', 'only dead letters whose reason contains this text', parseReasonContains)
    .option(...prefixOption)
    .option('--json', 'print JSON', false)
    .action(async (opts: Common & { limit: number; reasonContains?: string }) => {
      const { context, group } = setUp(opts);
      const listing = await listDeadLetters(context, group, {
        limit: opts.limit,
        ...(opts.reasonContains === undefined ? {} : { reasonContains: opts.reasonContains }),
      });
      if (opts.json) {
        out(JSON.stringify(listing, null, 2));
        return;
      }
      out(
        `${listing.topic}: ${listing.deadLetters} dead letters, ${listing.redriven} re-driven, depth ${listing.depth}`,
      );
      out(['offset', 'state', 'failed at', 'source', 'event', 'reason'].join('\t'));
      for (const summary of listing.shown) out(formatListLine(summary));
      if (listing.shown.length < listing.matching)
        out(`(${listing.shown.length} of ${listing.matching} shown; raise --limit for more)`);
    });
  dlq
    .command('show')
    .description('one dead letter in full: reason, source position, headers, the event decoded')
    .requiredOption(...groupOption)
    .requiredOption('--offset <offset>', 'its offset in the DLQ (from `dlq list`)', parseOffset)
    .option(...prefixOption)
    .option('--json', 'print JSON', false)
    .action(async (opts: Common & { offset: string }) => {
      const { context, group } = setUp(opts);
      const summary = await showDeadLetter(context, group, opts.offset);
      out(opts.json ? JSON.stringify(summary, null, 2) : formatDeadLetter(summary));
    });
  dlq
    .command('redrive')
    .description('send dead letters back to their source topic once their cause is fixed; each at most once')
    .requiredOption(...groupOption)
    .requiredOption(
      '--offset <offset>',
      'a DLQ offset or an inclusive range a-b; repeat for more (at most 1000 in all)',
      parseOffsets,
    )
    .option(...prefixOption)
    .option('--json', 'print JSON', false)
    .action(async (opts: Common & { offset: string[] }) => {
      const { context, group } = setUp(opts);
      const outcomes = await redriveDeadLetters(context, group, opts.offset);
      if (opts.json) out(JSON.stringify(outcomes, null, 2));
      else for (const outcome of outcomes) out(formatRedriveOutcome(deadLetterTopicName(group), outcome));
      // Skipping what was re-driven before is success (the command is idempotent); a refusal is not.
      if (outcomes.some((outcome) => outcome.outcome === 'refused')) process.exitCode = 1;
    });
  dlq
    .command('depth')
    .description("every group's DLQ: dead letters, re-driven, and the depth (those still waiting)")
    .option(...prefixOption)
    .option('--json', 'print JSON', false)
    .action(async (opts: { topicPrefix?: string; json?: boolean }) => {
      const { context } = setUp(opts);
      const depths = await dlqDepths(context);
      if (opts.json) {
        out(JSON.stringify(depths, null, 2));
        return;
      }
      out(['group', 'dead letters', 're-driven', 'depth'].join('\t'));
      for (const row of depths) out([row.group, row.deadLetters, row.redriven, row.depth].join('\t'));
    });
}
