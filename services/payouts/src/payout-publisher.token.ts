/** The Nest token of the service's one Kafka producer (payout events and the treasury's funding events). */
export const PAYOUT_PUBLISHER = Symbol('PAYOUT_PUBLISHER');
