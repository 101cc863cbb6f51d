/**
 * kafkajs's wire fast paths: exactly sized replacements for its produce request encoding and its
 * fetched-record decoding, which write and read kafkajs's own bytes and objects with far less CPU and
 * garbage, and a lookup of coordinators that asks the cluster once rather than before every request to
 * one (kafkajs-encoders.ts, kafkajs-record-decoder.ts and kafkajs-coordinators.ts say what each
 * replaces and why).
 *
 * Importing this library changes nothing. A service opts in with one line, first thing in its main:
 *
 *     installKafkaWireFastPaths();
 *
 * Both replacements reproduce one kafkajs release, KAFKAJS_VERSION_PINNED. The call checks the
 * installed kafkajs against it and compares each replacement with kafkajs's own code on a sample
 * record; on any other version, or any difference, it throws and installs nothing of the failing part,
 * so a kafkajs upgrade stops the service at start instead of putting other bytes on the wire. It also
 * throws when a kafkajs producer already sent or a consumer already fetched in this process (the
 * modules it replaces are bound then). Without the call every producer and consumer works unchanged,
 * on kafkajs's own code: libraries (the producer client above all, which outside projects import with
 * their own kafkajs) never make it.
 *
 * OffsetsByTimestampReader is no replacement but a class a service makes: kafkajs's offsets by timestamp
 * for several topics in one round trip (kafkajs-offsets.ts).
 */
import { installKafkajsCoordinators } from './kafkajs-coordinators';
import { installKafkajsEncoders } from './kafkajs-encoders';
import { installKafkajsRecordDecoder } from './kafkajs-record-decoder';

export { KAFKAJS_VERSION_PINNED } from './kafkajs-encoders';

/**
 * Puts the produce request encoder, the record decoder and the coordinator lookup in the place of
 * kafkajs's own, for every kafkajs client of the process. Calling it again is a no-op. Throws when
 * kafkajs is not KAFKAJS_VERSION_PINNED, or was used before the call.
 */
export function installKafkaWireFastPaths(): void {
  installKafkajsEncoders();
  installKafkajsRecordDecoder();
  installKafkajsCoordinators();
}
export { adminOffsetsByTimestamp, OffsetsByTimestampReader, type PartitionOffset } from './kafkajs-offsets';
