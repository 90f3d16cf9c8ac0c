export default function globalSetup(globalConfig: { selectedProjects?: string[] }): Promise<void>;
