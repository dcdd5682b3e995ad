// Where a proxy process writes an access-log line. The data plane hands on a line only when the config that served
// its request logs; the process then needs that config's target. A config is not in force at once everywhere:
// with workers, one that has applied it serves (and logs) while another is still starting or applying, and the
// process counts the config in force only once all have. Until then a line may come from either config. Applies
// come one at a time (the discovery client queues the pushes).
import type { AccessLogConfig } from '../proxy-config/types.js';

export class AccessLogTarget {
  /** The access log of the config every plane applied. */
  private inForce: AccessLogConfig | undefined;
  /** The access log of the config being applied, if one is. */
  private applying: AccessLogConfig | undefined;

  /** A config's apply begins: planes that have it may log under it before the apply ends. */
  begin(accessLog: AccessLogConfig): void {
    this.applying = accessLog;
  }

  /** The apply ended; `ok` when every plane applied the config, which is then in force. */
  end(ok: boolean): void {
    if (ok) this.inForce = this.applying;
    this.applying = undefined;
  }

  /**
   * Where a line goes: the config in force's log, when it logs; else that of the config being applied, when it
   * logs (the line came from a plane that has it). Undefined when no config that could have served the request logs.
   */
  get current(): AccessLogConfig | undefined {
    if (this.inForce?.enabled) return this.inForce;
    return this.applying?.enabled ? this.applying : undefined;
  }
}
