import { Decimal } from 'decimal.js';

/**
 * Unit conversions of connectors. The product stores sizes in GB meaning GiB
 * (1 GB = 1024 MiB = 2^30 bytes). Every MiB or byte count has an exact GiB
 * value with at most 30 decimals, which inventory records accept, so nothing
 * is rounded.
 */

// Precision 60 significant digits keeps every such quotient exact; the default 20 would round large byte counts.
const Exact = Decimal.clone({ precision: 60 });
const MIB_PER_GIB = 1024;
const BYTES_PER_GIB = new Exact(2).pow(30);

/** Returns `value` as a Decimal when it is a non-negative finite number or numeric text, else null. */
export function toNonNegativeDecimal(value: unknown): Decimal | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  if (typeof value === 'string' && !/^\d+(\.\d+)?$/.test(value.trim())) return null;
  if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) return null;
  return new Exact(value);
}

function gbText(size: Decimal): string {
  return size.toFixed();
}

/** Converts MiB to GB (GiB) text; returns the input unchanged when it is not a size, so validation rejects it by name. */
export function mibToGb(mib: unknown): unknown {
  const size = toNonNegativeDecimal(mib);
  return size === null ? mib : gbText(size.div(MIB_PER_GIB));
}

/** Converts bytes to GB (GiB) text; returns the input unchanged when it is not a size. */
export function bytesToGb(bytes: unknown): unknown {
  const size = toNonNegativeDecimal(bytes);
  return size === null ? bytes : gbText(size.div(BYTES_PER_GIB));
}

/** Adds sizes in GB; returns the first input that is not a size unchanged. */
export function sumGb(sizes: readonly unknown[]): unknown {
  let total = new Exact(0);
  for (const size of sizes) {
    const value = toNonNegativeDecimal(size);
    if (value === null) return size;
    total = total.plus(value);
  }
  return gbText(total);
}
