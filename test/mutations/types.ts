/**
 * One planted bug: `search` must occur exactly once in `file` (else the mutation is stale
 * and the run fails, so the list cannot rot silently); it is replaced by `replace` in a
 * scratch copy of the tree, and only `tests` run against it. Mutations need not typecheck:
 * tests run from source through vitest and esbuild, which strip types without checking.
 */
export type Mutation = {
  /** Stable name: shown in the report, taken by `--only`. */
  id: string;
  /** The bug, in words. */
  bug: string;
  file: string;
  search: string;
  replace: string;
  /** Test files that must catch it; nothing else runs. */
  tests: string[];
};
