/**
 * Caching buffer allocator with live and peak byte accounting.
 *
 * Sizes are rounded up to size classes (4 classes per power of two, so at most 25% slack) and freed
 * buffers are kept for reuse. Two counters matter to the search's memory figures:
 *  - live bytes: the sum of requested sizes of buffers handed out and not yet released (what tensors
 *    hold; its peak is the headline "peak GPU memory" of a run);
 *  - reserved bytes: everything the allocator holds from the device (live + cached), and its peak.
 *
 * Hazard rule: a buffer released while the current command encoder is not yet submitted may still be
 * read by encoded work. It may be reused at once by later *kernels* (the GPU runs them in order), but
 * not for a queue.writeBuffer upload (which the queue would run before the encoded work). So released
 * buffers first go to a pending list that becomes reusable for uploads at the next submit.
 */

export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const p = 2 ** Math.floor(Math.log2(b));
  if (p === b) return b;
  const step = p / 4;
  return Math.ceil(b / step) * step;
}

export interface MemoryStats {
  liveBytes: number;
  peakLiveBytes: number;
  reservedBytes: number;
  peakReservedBytes: number;
  buffersCreated: number;
  reuses: number;
}

export class BufferAllocator {
  private free = new Map<number, GPUBuffer[]>();
  private pending = new Map<number, GPUBuffer[]>();
  private requested = new WeakMap<GPUBuffer, number>();
  private usage: number;
  stats: MemoryStats = { liveBytes: 0, peakLiveBytes: 0, reservedBytes: 0, peakReservedBytes: 0, buffersCreated: 0, reuses: 0 };

  constructor(private device: GPUDevice) {
    this.usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  }

  /**
   * A storage buffer of at least `bytes`. `forUpload`: the caller will queue.writeBuffer into it before
   * the pending encoder is submitted, so it must not be a buffer released into the current encoder.
   */
  alloc(bytes: number, label?: string, forUpload = false): GPUBuffer {
    const size = sizeClass(bytes);
    let buffer = this.free.get(size)?.pop();
    if (!buffer && !forUpload) buffer = this.pending.get(size)?.pop();
    if (buffer) {
      this.stats.reuses++;
    } else {
      buffer = this.device.createBuffer({ size, usage: this.usage, label });
      this.stats.buffersCreated++;
      this.stats.reservedBytes += size;
      this.stats.peakReservedBytes = Math.max(this.stats.peakReservedBytes, this.stats.reservedBytes);
    }
    this.requested.set(buffer, bytes);
    this.stats.liveBytes += bytes;
    this.stats.peakLiveBytes = Math.max(this.stats.peakLiveBytes, this.stats.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const bytes = this.requested.get(buffer);
    if (bytes === undefined) throw new Error('BufferAllocator.release: buffer was not allocated here or was released twice');
    this.requested.delete(buffer);
    this.stats.liveBytes -= bytes;
    const size = buffer.size;
    let list = this.pending.get(size);
    if (!list) this.pending.set(size, (list = []));
    list.push(buffer);
  }

  /** Called after each submit: buffers released before it are now safe for uploads too. */
  onSubmit(): void {
    for (const [size, list] of this.pending) {
      if (list.length === 0) continue;
      let f = this.free.get(size);
      if (!f) this.free.set(size, (f = []));
      f.push(...list);
      list.length = 0;
    }
  }

  /** Returns cached (free) buffers to the device. Live buffers are untouched. */
  trim(): void {
    for (const [, list] of this.free) {
      for (const b of list) {
        this.stats.reservedBytes -= b.size;
        b.destroy();
      }
      list.length = 0;
    }
  }

  resetPeak(): void {
    this.stats.peakLiveBytes = this.stats.liveBytes;
    this.stats.peakReservedBytes = this.stats.reservedBytes;
  }
}
