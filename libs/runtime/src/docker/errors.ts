/** An error the Docker API answered with (dockerode puts the HTTP status on it). */
export interface DockerError {
  statusCode?: number;
  message: string;
}

export const isNotFound = (error: unknown) => (error as DockerError).statusCode === 404;
