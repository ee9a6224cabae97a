import type { Mutation } from "./types";

/** The click's path out of a self-hosted replica: its visitor hash and the FIFO its line is written into. */

const HASH_TESTS = ["shared/visitor.test.ts"];
const PIPE_TESTS = ["selfhost/services/click-pipe.test.ts"];
export const CLICK_PATH_MUTATIONS: Mutation[] = [
  {
    id: "visitor-hash-not-reset",
    bug: "the reused hasher is not reset, so each visitor hash goes on from the previous one's state",
    file: "shared/visitor.ts",
    search: "  initialState._cloneInto(hasher);\n",
    replace: "",
    tests: HASH_TESTS,
  },
  {
    id: "visitor-hash-truncated-input",
    bug: "an input longer than the reused buffer is hashed as far as it fit",
    file: "shared/visitor.ts",
    search: "read === text.length ? encoded.subarray(0, written)",
    replace: "true ? encoded.subarray(0, written)",
    tests: HASH_TESTS,
  },
  {
    id: "click-pipe-keeps-write-end",
    bug: "the runner keeps its copy of the FIFO's write end, so the shipper never sees a replica's exit",
    file: "selfhost/services/click-pipe.ts",
    search:
      "      // Only the child may hold the write end, or the reader would never see its end.\n      closeSync(writeEnd);\n",
    replace: "",
    tests: PIPE_TESTS,
  },
];
