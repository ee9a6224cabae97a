import { isLinkRecord, type LinkRecord } from "@shared/links/record";
import type { LinkStore } from "@shared/ports";

/**
 * LinkStore over a Workers KV binding. The self-hosted runtime binds the same KV
 * interface to its own store service, so this adapter serves both.
 */
export class KvLinkStore implements LinkStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly cacheTtl: number,
  ) {}

  async get(key: string): Promise<LinkRecord | null> {
    // One read, parsed once by the runtime.
    const value = await this.kv.get<unknown>(key, { type: "json", cacheTtl: this.cacheTtl });
    return isLinkRecord(value) ? value : null;
  }

  async put(key: string, record: LinkRecord): Promise<void> {
    await this.kv.put(key, JSON.stringify(record));
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }
}
