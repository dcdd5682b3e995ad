// exportTo semantics shared by ServiceEntry, VirtualService and DestinationRule: empty or "*" exports to every
// namespace, "." to the owner's namespace only, "~" to none, any other entry names a namespace.

export function isExportedTo(exportTo: readonly string[], ownerNamespace: string, clientNamespace: string): boolean {
  if (exportTo.length === 0) return true;
  for (const e of exportTo) {
    if (e === '*') return true;
    if (e === '.' && ownerNamespace === clientNamespace) return true;
    if (e === clientNamespace) return true;
  }
  return false;
}
