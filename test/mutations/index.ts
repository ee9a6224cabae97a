import { CLICK_PATH_MUTATIONS } from "./click-path";
import { COUNTER_MUTATIONS } from "./counters";
import { DOMAIN_MUTATIONS } from "./domains";
import { KEY_INDEX_MUTATIONS } from "./key-index";
import { LINK_OPTION_MUTATIONS } from "./link-options";
import { OWNER_MUTATIONS } from "./owners";
import { REDIRECT_MUTATIONS } from "./redirect";
import type { Mutation } from "./types";
import { URL_MUTATIONS } from "./urls";

/** Every planted bug `npm run test:mutation` tries (scripts/mutation-test.ts). */
export const MUTATIONS: Mutation[] = [
  ...URL_MUTATIONS,
  ...OWNER_MUTATIONS,
  ...REDIRECT_MUTATIONS,
  ...COUNTER_MUTATIONS,
  ...DOMAIN_MUTATIONS,
  ...LINK_OPTION_MUTATIONS,
  ...KEY_INDEX_MUTATIONS,
  ...CLICK_PATH_MUTATIONS,
];

/**
 * The run fails below this share of mutants killed. Measured: see docs/testing.md. A new
 * mutation that survives is a missing test to add, not a reason to lower the floor.
 */
export const SCORE_FLOOR = 1;
