// Where a proxy process writes an access-log line. The data plane hands on a line only when the config that served
// its request logs; the process then needs that config's target. A config is not in force at once everywhere:
// with workers, one that has applied it serves (and logs) while another is still starting or applying, and the
// process counts the config in force only once all have. Until then a line may come from either config.
import type { AccessLogConfig } from '../proxy-config/types.js';

export class AccessLogTarget {
  /** The access log of the config every plane applied, and the number of its apply. */
  private inForce: AccessLogConfig | undefined;
  private inForceApply = 0;
  /** Configs being applied, oldest first (pushes can overlap), each with the number of its apply. */
  private readonly applying: { readonly apply: number; readonly accessLog: AccessLogConfig }[] = [];
  private applies = 0;

  /** A config's apply begins: planes that have it may log under it before the apply ends. Returns its number. */
  begin(accessLog: AccessLogConfig): number {
    const apply = ++this.applies;
    this.applying.push({ apply, accessLog });
    return apply;
  }

  /**
   * An apply ended; `ok` when every plane applied its config, which is then in force, unless a later apply is
   * in force already.
   */
  end(apply: number, ok: boolean): void {
    const at = this.applying.findIndex((a) => a.apply === apply);
    if (at < 0) return;
    const [ended] = this.applying.splice(at, 1);
    if (ok && apply > this.inForceApply) {
      this.inForce = ended!.accessLog;
      this.inForceApply = apply;
    }
  }

  /**
   * Where a line goes: the config in force's log, when it logs; else that of the newest config being applied that
   * logs (the line came from a plane that has it). Undefined when no config that could have served the request
   * logs.
   */
  get current(): AccessLogConfig | undefined {
    if (this.inForce?.enabled) return this.inForce;
    for (let i = this.applying.length - 1; i >= 0; i--) {
      const { accessLog } = this.applying[i]!;
      if (accessLog.enabled) return accessLog;
    }
    return undefined;
  }
}
