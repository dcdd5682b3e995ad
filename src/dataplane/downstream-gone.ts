// "The client went away before its response completed", told to whichever step of a request is waiting: what an
// AbortSignal does, without an EventTarget per request. Most requests end with no listener ever registered.

export class DownstreamGone {
  private gone = false;
  private listeners: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.gone;
  }

  /** Runs `fn` once when the client goes (at once if it already has); the returned function stops listening. */
  onGone(fn: () => void): () => void {
    if (this.gone) {
      fn();
      return noop;
    }
    (this.listeners ??= []).push(fn);
    return () => {
      const at = this.listeners?.indexOf(fn) ?? -1;
      if (at >= 0) this.listeners!.splice(at, 1);
    };
  }

  fire(): void {
    if (this.gone) return;
    this.gone = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const fn of listeners) fn();
  }
}

function noop(): void {}
