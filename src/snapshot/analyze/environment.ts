/**
 * What analysis may learn beyond the snapshot. Whoever runs the analyzers passes it in, so that they stay pure
 * functions of their arguments and tests can hand them a fake.
 */
export interface AnalysisEnvironment {
  /**
   * Whether the snapshot's secrets are the config directory's secrets folder as read. False when files are analyzed
   * on their own (`validate`, `analyze --offline`): no folder was read, so a credentialName cannot be checked.
   */
  readonly secretsRead: boolean;
  /**
   * Whether a certificate or key file the configuration names can be read where the proxies run (in local mode,
   * this host). Absent: file paths are not checked.
   */
  readonly fileReadable?: (path: string) => boolean;
}

/** The snapshot is the whole truth: its secrets are the folder's, and files are not looked at. */
export const SNAPSHOT_ONLY: AnalysisEnvironment = { secretsRead: true };
