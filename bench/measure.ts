import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/**
 * Timing and memory of one benchmark phase. The peak RSS of a phase comes from
 * the kernel's high-water mark: on Linux (4.0 and later) writing 5 to
 * /proc/self/clear_refs resets it to the current RSS, so getrusage's maxrss
 * afterwards is the peak of that phase alone. Elsewhere the reset fails and the
 * figure is the peak since the process started.
 *
 * The sampled maximum polls process.memoryUsage().rss on a timer. PGlite
 * executes statements on the main thread, so the timer cannot fire during a
 * long statement and the sampled maximum can miss the kernel's peak there.
 */

export interface PhaseMeasurement {
  seconds: number;
  /** Kernel high-water mark of RSS during the phase, in MiB. */
  peakRssMiB: number;
  /** Whether peakRssMiB covers this phase only (false: since process start). */
  peakIsPerPhase: boolean;
  /** Largest process.memoryUsage().rss seen by the sampling timer, in MiB. */
  sampledMaxRssMiB: number;
  /**
   * The machine's 1-minute load average at the start and at the end of the
   * phase. A value above the number of CPU cores means other processes
   * competed for the CPU, so the phase's time is not representative.
   */
  loadAverage: { start: number; end: number };
}

const SAMPLE_INTERVAL_MS = 20;

function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const toMiB = (bytes: number) => bytes / (1024 * 1024);

/** Runs `work` and returns its result with the phase's wall time and RSS. */
export async function measure<T>(
  work: () => Promise<T>,
): Promise<{ result: T; measurement: PhaseMeasurement }> {
  const loadAtStart = loadavg()[0]!;
  const peakIsPerPhase = resetPeakRss();
  let sampledMax = process.memoryUsage().rss;
  const timer = setInterval(() => {
    sampledMax = Math.max(sampledMax, process.memoryUsage().rss);
  }, SAMPLE_INTERVAL_MS);

  const started = performance.now();
  try {
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    sampledMax = Math.max(sampledMax, process.memoryUsage().rss);
    // resourceUsage().maxRSS is in KiB.
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    return {
      result,
      measurement: {
        seconds,
        peakRssMiB,
        peakIsPerPhase,
        sampledMaxRssMiB: toMiB(sampledMax),
        loadAverage: { start: loadAtStart, end: loadavg()[0]! },
      },
    };
  } finally {
    clearInterval(timer);
  }
}
