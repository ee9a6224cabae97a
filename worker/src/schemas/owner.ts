import { text } from "./text";

/**
 * `?owner=` of the list and stats routes: the admin token's filter by owner (`*` for all of them);
 * `star` says what `*` covers at that route.
 */
export const ownerQuery = (star: string) =>
  text()
    .min(1)
    .max(128)
    .optional()
    .openapi({
      description: `Admin token only: this owner's links, or \`*\` for ${star} (left out: the admin's own). A key may name only its own owner.`,
    });
