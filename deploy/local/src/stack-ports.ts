/** The local development stack's addresses; the test stack uses others so both can run at once. */
export const DEV_KAFKA_PORT = 9092;
export const DEV_KAFKA_NAME = 'dev';
export const DEV_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tributary';
/** The schema registry's HTTP port; its management interface (health) takes the next one. */
export const DEV_REGISTRY_PORT = 8081;
export const DEV_REGISTRY_NAME = 'dev';
