import type { InventoryPageItem, InventorySource } from '../../source.js';
import { SystemMapping, type MappingRuleConfig } from '../mapping.js';
import { readVinfoRows, rvtoolsFileFormat } from './sheet-reader.js';
import { emptyReadStats, vinfoRecords, type VinfoReadStats } from './vinfo-records.js';

/** Records per page yielded to the sync, which upserts each page in one statement. */
export const RVTOOLS_PAGE_SIZE = 1000;

export interface RvtoolsSourceOptions {
  /** Source name, also stored as the provider of its VMs. */
  name: string;
  /** XLSX export, or the vInfo tab saved as CSV; undefined for a source that only `source import` fills. */
  path: string | undefined;
  mapping: readonly MappingRuleConfig[];
  pageSize?: number;
}

/**
 * VMs from the vInfo sheet of an RVTools export. The file is read again at
 * each sync, streaming, so replacing it with a newer export takes effect at
 * the next run. A source without a file counts as owning its VMs in the
 * database, so that sync leaves them to `source import`.
 */
export class RvtoolsInventorySource implements InventorySource {
  readonly name: string;
  readonly provider: string;
  readonly ownDatabase: boolean;
  readonly path: string | undefined;
  readonly pageSize: number;
  /** Rows of the last read that yielded no record. Reset when a read starts. */
  lastReadStats: VinfoReadStats = emptyReadStats();
  private readonly mapping: SystemMapping;

  constructor(options: RvtoolsSourceOptions) {
    this.name = options.name;
    this.provider = options.name;
    this.path = options.path;
    this.ownDatabase = options.path === undefined;
    if (options.path !== undefined) rvtoolsFileFormat(options.path);
    this.mapping = new SystemMapping(options.mapping);
    this.pageSize = options.pageSize ?? RVTOOLS_PAGE_SIZE;
  }

  /** Yields the sheet's VMs page by page. Throws DomainError when the file or its header is unusable. */
  async *readPages(): AsyncGenerator<InventoryPageItem[]> {
    const stats = emptyReadStats();
    this.lastReadStats = stats;
    if (this.path === undefined) return;

    let page: InventoryPageItem[] = [];
    const file = this.path;
    for await (const item of vinfoRecords(readVinfoRows(file), file, this.mapping, stats)) {
      page.push(item);
      if (page.length >= this.pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }
}
