export { formatLogLine } from "./log-lines.ts";
export { type ProcessSpec, Supervisor } from "./supervisor.ts";
