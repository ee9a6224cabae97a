/** For the benches: links made through a running cluster's API, as a user makes them. */

/** What the benches need of a cluster (selfhost/cluster.ts startCluster) to make a link. */
type ApiCluster = { lbUrl: string; adminToken: string };

/**
 * Creates a link `<prefix>-<random>` to https://example.com/<prefix>, with any other link
 * fields in `fields`; returns its slug, or throws with the API's answer.
 */
export async function createLink(
  cluster: ApiCluster,
  prefix: string,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const slug = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const res = await fetch(`${cluster.lbUrl}/api/v1/links`, {
    method: "POST",
    headers: { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ url: `https://example.com/${prefix}`, slug, ...fields }),
  });
  if (res.status !== 201)
    throw new Error(`could not create the ${prefix} link: ${res.status} ${await res.text()}`);
  return slug;
}
