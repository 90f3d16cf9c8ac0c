/** A free TCP port on 127.0.0.1 (the OS picks it; the socket is closed before returning). */
export function freePort(): Promise<number>;
export default function globalSetup(globalConfig: { selectedProjects?: string[] }): Promise<void>;
