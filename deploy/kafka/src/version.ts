// The one place the Kafka version is pinned; deploy/kafka/pom.xml's kafka.version must match it
// (version.spec.ts checks). Why this version and not a newer one: see deploy/kafka/README.md.
export const KAFKA_VERSION = '4.4.0';

// Kafka 4.x brokers and tools need Java 17.
export const JAVA_MAJOR_MIN = 17;
