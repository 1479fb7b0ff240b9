import type { Settings } from '../config/settings.js';
import { FileInventorySource } from './file-source.js';
import { LocalInventorySource } from './local-source.js';
import type { InventorySource } from './source.js';

/** Builds the inventory sources that the settings configure: the own database always, the file when set. */
export function buildInventorySources(settings: Settings): InventorySource[] {
  const sources: InventorySource[] = [new LocalInventorySource()];
  if (settings.inventoryFile) {
    sources.push(
      new FileInventorySource({ path: settings.inventoryFile, provider: settings.inventoryFileProvider }),
    );
  }
  return sources;
}
