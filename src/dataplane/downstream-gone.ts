// "The client went away before its response completed", told to whichever step of a request is waiting: what an
// AbortSignal does, without an EventTarget per request. Most requests have one listener at most (the cluster
// action's), held without an array or a closure to stop listening.

export class DownstreamGone {
  private gone = false;
  private first: (() => void) | undefined;
  private more: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.gone;
  }

  /** Runs `fn` once when the client goes (at once if it already has), unless `unlisten(fn)` comes first. */
  listen(fn: () => void): void {
    if (this.gone) {
      fn();
      return;
    }
    if (this.first === undefined && this.more === undefined) this.first = fn;
    else (this.more ??= []).push(fn);
  }

  unlisten(fn: () => void): void {
    if (this.first === fn) {
      this.first = undefined;
      return;
    }
    const at = this.more?.indexOf(fn) ?? -1;
    if (at >= 0) this.more!.splice(at, 1);
  }

  fire(): void {
    if (this.gone) return;
    this.gone = true;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.();
    if (more) for (const fn of more) fn();
  }
}
