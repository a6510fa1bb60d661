/**
 * Which conversations hold a message in a given second, for every listed message of an export: (second, conversation
 * number) pairs in typed arrays, sorted once before the first lookup. 12 bytes a message, where a Map of arrays took
 * about 190 (75 MB of heap for a 400,000-message account).
 */
export class SecondsIndex {
  private secs = new Float64Array(1024);
  private owners = new Int32Array(1024);
  private count = 0;
  private sorted = true;

  add(second: number, owner: number): void {
    if (this.count === this.secs.length) {
      const secs = new Float64Array(this.count * 2);
      secs.set(this.secs);
      this.secs = secs;
      const owners = new Int32Array(this.count * 2);
      owners.set(this.owners);
      this.owners = owners;
    }
    this.secs[this.count] = second;
    this.owners[this.count] = owner;
    this.count++;
    this.sorted = false;
  }

  /** The owners with a message in `second`, each once. */
  at(second: number): number[] {
    this.sort();
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.secs[mid]! < second) lo = mid + 1;
      else hi = mid;
    }
    const found: number[] = [];
    for (let i = lo; i < this.count && this.secs[i] === second; i++)
      if (found[found.length - 1] !== this.owners[i]) found.push(this.owners[i]!);
    return found;
  }

  /** Sorts the pairs by second, then owner (so that an owner's pairs of one second are adjacent). */
  private sort(): void {
    if (this.sorted) return;
    const { secs, owners } = this;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < this.count; i++) order[i] = i;
    order.sort((a, b) => secs[a]! - secs[b]! || owners[a]! - owners[b]!);
    const sortedSecs = new Float64Array(this.count);
    const sortedOwners = new Int32Array(this.count);
    order.forEach((from, to) => {
      sortedSecs[to] = secs[from]!;
      sortedOwners[to] = owners[from]!;
    });
    this.secs = sortedSecs;
    this.owners = sortedOwners;
    this.sorted = true;
  }
}
