import { LOCAL_PROVIDER } from './local-vms.js';
import type { InventoryRecordInput, InventorySource } from './source.js';

/**
 * The product's own inventory, whose VMs the CLI and API change directly (see
 * local-vms.ts). It yields no records. Sync neither updates its VMs nor counts
 * them as unseen.
 */
export class LocalInventorySource implements InventorySource {
  readonly name = 'local';
  readonly provider = LOCAL_PROVIDER;
  readonly ownDatabase = true;

  // eslint-disable-next-line require-yield
  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    return;
  }
}
