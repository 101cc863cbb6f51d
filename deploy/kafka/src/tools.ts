import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from './errors';
import { TOOLS_JVM_ARGS, renderToolsLog4j } from './config';
import { ensureKafkaInstalled } from './install';
import { kafkaHomeDir } from './paths';
import { type CommandResult, runCommand } from './process';
import { javaExecutable } from './install';

// Script name in Kafka's bin/ -> main class, as in bin/*.sh of the pinned version. Each class was
// checked against the resolved jars (README.md lists how); a version bump must re-check them.
export const KAFKA_TOOL_CLASSES: Readonly<Record<string, string>> = {
  'kafka-topics': 'org.apache.kafka.tools.TopicCommand',
  'kafka-acls': 'org.apache.kafka.tools.AclCommand',
  'kafka-consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'kafka-console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'kafka-console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'kafka-transactions': 'org.apache.kafka.tools.TransactionsCommand',
  'kafka-configs': 'org.apache.kafka.tools.ConfigCommand',
  'kafka-get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'kafka-metadata-quorum': 'org.apache.kafka.tools.MetadataQuorumCommand',
  'kafka-features': 'org.apache.kafka.tools.FeatureCommand',
  'kafka-storage': 'kafka.tools.StorageTool',
  // Kafka's own produce-to-consume latency, the floor `npm run bench:latency` measures the pipeline against.
  'kafka-e2e-latency': 'org.apache.kafka.tools.EndToEndLatency',
};

/** Accepts `kafka-topics` and `kafka-topics.sh`, the way operators type them from Kafka's docs. */
export function toolMainClass(tool: string): string {
  const mainClass = KAFKA_TOOL_CLASSES[tool.replace(/\.sh$/, '')];
  if (mainClass) return mainClass;
  throw new ProvisionError(`unknown Kafka tool '${tool}'`, `use one of ${Object.keys(KAFKA_TOOL_CLASSES).join(', ')}`);
}

export function javaClassPath(libs: string): string {
  return path.join(libs, '*');
}

function toolsLog4jFile(): string {
  const file = path.join(kafkaHomeDir(), 'config', 'tools-log4j2.properties');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderToolsLog4j());
  }
  return file;
}

/** Runs one of Kafka's CLI tools from the cached jars. Resolves with its exit code; never throws on it. */
export async function runKafkaCli(
  tool: string,
  args: string[],
  opts: { stdio?: 'inherit' | 'pipe' } = {},
): Promise<CommandResult> {
  const mainClass = toolMainClass(tool);
  const libs = await ensureKafkaInstalled();
  const jvmArgs = [...TOOLS_JVM_ARGS, `-Dlog4j2.configurationFile=${toolsLog4jFile()}`];
  return runCommand(javaExecutable(), [...jvmArgs, '-cp', javaClassPath(libs), mainClass, ...args], {
    stdio: opts.stdio ?? 'pipe',
  });
}
