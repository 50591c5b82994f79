export { escapeHtml } from "./escape-html.ts";
export {
  applyHostsBlock,
  type HostsEntry,
  hostsBlockBegin,
  hostsBlockEnd,
  hostsEntrySchema,
  renderHostsBlock,
  updateHostsFile,
} from "./hosts-file.ts";
export {
  deployingRefreshSeconds,
  renderStatusPage,
  type StatusPage,
  type StatusPageJson,
} from "./status-page.ts";
export {
  type DeployPhase,
  deployPhases,
  type StatusPageState,
  statusPageStateSchema,
} from "./status-state.ts";
