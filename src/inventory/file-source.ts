import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';

import { DomainError } from '../errors.js';
import type { InventoryRecordInput, InventorySource } from './source.js';

/**
 * An inventory kept in a JSON or YAML file (format chosen by the extension
 * .json, .yaml or .yml), which an operator or an export script maintains. The
 * file is read again at each sync, so edits take effect at the next run. The
 * schema is documented in docs/inventory-file.md.
 */

/** Records per page yielded to the sync, which upserts each page in one statement. */
export const DEFAULT_FILE_PAGE_SIZE = 1000;

export type InventoryFileFormat = 'JSON' | 'YAML';

export interface FileInventorySourceOptions {
  path: string;
  /** Provider stored on the file's VMs, e.g. `file`. */
  provider: string;
  pageSize?: number;
}

/** Returns the format of an inventory file from its extension. Throws DomainError for any other extension. */
export function inventoryFileFormat(file: string): InventoryFileFormat {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.json') return 'JSON';
  if (extension === '.yaml' || extension === '.yml') return 'YAML';
  throw new DomainError('inventory_file_extension', { file }, 'path');
}

export class FileInventorySource implements InventorySource {
  readonly name: string;
  readonly provider: string;
  readonly ownDatabase = false;
  readonly path: string;
  readonly format: InventoryFileFormat;
  readonly pageSize: number;

  constructor(options: FileInventorySourceOptions) {
    this.path = options.path;
    this.provider = options.provider;
    this.format = inventoryFileFormat(options.path);
    this.pageSize = options.pageSize ?? DEFAULT_FILE_PAGE_SIZE;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) {
      throw new RangeError(`pageSize must be a whole number of at least 1, got ${this.pageSize}`);
    }
    this.name = `file:${options.path}`;
  }

  /**
   * Reads and parses the whole file, then yields its records in pages. Throws
   * DomainError when the file cannot be read or parsed or has the wrong shape.
   * Records are yielded as found, because the sync validates each one,
   * including whether it is an object at all.
   */
  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    // NOTE: JSON.parse and the YAML parser need the whole text, so the file and
    // its parsed records are held in memory for the duration of the sync.
    const records = await this.readRecords();
    for (let start = 0; start < records.length; start += this.pageSize) {
      yield records.slice(start, start + this.pageSize) as InventoryRecordInput[];
    }
  }

  private async readRecords(): Promise<unknown[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      throw new DomainError('inventory_file_unreadable', {
        file: this.path,
        error: (error as Error).message,
      });
    }
    // Editors on Windows often save UTF-8 with a byte order mark, which JSON.parse rejects.
    if (text.startsWith('\uFEFF')) text = text.slice(1);

    let content: unknown;
    try {
      content = this.format === 'JSON' ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new DomainError('inventory_file_invalid', {
        file: this.path,
        format: this.format,
        error: (error as Error).message,
      });
    }

    if (Array.isArray(content)) return content;
    if (typeof content === 'object' && content !== null && 'vms' in content && Array.isArray(content.vms)) {
      return content.vms as unknown[];
    }
    // An empty file also ends here. An inventory without VMs must be written as
    // `vms: []` or `[]`, so that a file emptied by mistake cannot mark every VM missing.
    throw new DomainError('inventory_file_shape', { file: this.path });
  }
}
