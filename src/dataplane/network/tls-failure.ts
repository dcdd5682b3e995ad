// Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON% for a TLS handshake that failed: "TLS_error:|<reason>:TLS_error_end",
// with the reason in the words of Node's TLS stack: the OpenSSL verify code or alert, and its message.
export function transportFailureReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const message = e?.message ?? String(err);
  return `TLS_error:|${e?.code ? `${e.code}: ` : ''}${message}:TLS_error_end`;
}
