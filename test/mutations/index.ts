import { COUNTER_MUTATIONS } from "./counters";
import { OWNER_MUTATIONS } from "./owners";
import { REDIRECT_MUTATIONS } from "./redirect";
import type { Mutation } from "./types";

/** Every planted bug `npm run test:mutation` tries (scripts/mutation-test.ts). */
export const MUTATIONS: Mutation[] = [...REDIRECT_MUTATIONS, ...COUNTER_MUTATIONS, ...OWNER_MUTATIONS];

/**
 * The run fails below this share of mutants killed. Measured: see docs/testing.md. A new
 * mutation that survives is a missing test to add, not a reason to lower the floor.
 */
export const SCORE_FLOOR = 1;
