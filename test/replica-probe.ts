import type { Cluster } from "../selfhost/cluster";

const SKIPPED = 'edge_kv_index_absent_total{outcome="skipped"}';
const READ = 'edge_kv_index_absent_total{outcome="read"}';

/**
 * What the tests of the replicas' index of KV keys ask of a cluster's replica `i`: a visit, a
 * sample of its /metrics, its lookups of keys the index lacked, and a flood of never-seen slugs.
 * `cluster` is a getter, since the cluster starts in a beforeAll.
 */
export function replicaProbe(cluster: () => Cluster) {
  const url = (i: number) => cluster().replicas[i]?.url ?? "";
  const visit = (i: number, slug: string) => fetch(`${url(i)}/${slug}`, { redirect: "manual" });

  /** A sample of the replica's /metrics (0 when it has none yet). */
  async function metric(i: number, series: string): Promise<number> {
    const res = await fetch(`${url(i)}/metrics`, {
      headers: { Authorization: `Bearer ${cluster().secrets.metricsToken}` },
    });
    const line = (await res.text()).split("\n").find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  /** Lookups of keys the replica's index did not hold: answered 404 unread (skipped), or read within the budget. */
  const absent = async (i: number) => ({ skipped: await metric(i, SKIPPED), read: await metric(i, READ) });

  /** `batches` of 20 never-seen slugs at once on replica `i`: their statuses, and the absent lookups they added. */
  async function floodNeverSeen(i: number, batches: number) {
    const before = await absent(i);
    const statuses: number[] = [];
    for (let batch = 0; batch < batches; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => visit(i, `never-${crypto.randomUUID().slice(0, 12)}`)),
      );
      statuses.push(...answers.map((a) => a.status));
    }
    const after = await absent(i);
    return { statuses, skipped: after.skipped - before.skipped, read: after.read - before.read };
  }

  return { url, visit, metric, absent, floodNeverSeen };
}
