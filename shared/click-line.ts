/**
 * Self-host click transport: the edge writes each click event as one stdout line with
 * this prefix (worker/src/adapters/stdout-click-sink.ts) and the process that runs
 * workerd ships those lines to the queue broker (selfhost/click-shipper.ts).
 */
export const CLICK_LINE_PREFIX = "@click ";
