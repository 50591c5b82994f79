import { useEffect, useState } from "preact/hooks";

/** Pages live in the URL's fragment, so the server serves one page at / and reloads keep the place. */
export type Route =
  | { page: "projects" }
  | { page: "project"; project: string }
  | { page: "environment"; project: string; environment: string };

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const [first, project, second, environment] = parts;
  if (first === "projects" && project) {
    if (second === "environments" && environment) return { page: "environment", project, environment };
    return { page: "project", project };
  }
  return { page: "projects" };
}

export const href = {
  projects: () => "#/",
  project: (project: string) => `#/projects/${encodeURIComponent(project)}`,
  environment: (project: string, environment: string) =>
    `#/projects/${encodeURIComponent(project)}/environments/${encodeURIComponent(environment)}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
