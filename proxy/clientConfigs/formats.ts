import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** The MCP clients whose configuration files mcp-policy reads and wraps. */
export type ClientId = 'vscode' | 'claude-code' | 'cursor' | 'claude-desktop' | 'windsurf' | 'gemini';

export const CLIENT_LABELS: Record<ClientId, string> = {
  vscode: 'VS Code',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  'claude-desktop': 'Claude Desktop',
  windsurf: 'Windsurf',
  gemini: 'Gemini CLI',
};

export interface ConfigLocation {
  client: ClientId;
  path: string;
  scope: 'project' | 'user';
}

/** Where each client keeps its MCP servers, for a project folder and a home folder (Linux and macOS paths). */
export function configLocations(project: string, home = homedir(), platform: NodeJS.Platform = process.platform): ConfigLocation[] {
  const config = platform === 'darwin' ? join(home, 'Library', 'Application Support') : process.env.XDG_CONFIG_HOME || join(home, '.config');
  return [
    { client: 'vscode', path: join(project, '.vscode', 'mcp.json'), scope: 'project' },
    { client: 'claude-code', path: join(project, '.mcp.json'), scope: 'project' },
    { client: 'cursor', path: join(project, '.cursor', 'mcp.json'), scope: 'project' },
    { client: 'gemini', path: join(project, '.gemini', 'settings.json'), scope: 'project' },
    { client: 'vscode', path: join(config, 'Code', 'User', 'mcp.json'), scope: 'user' },
    { client: 'claude-code', path: join(home, '.claude.json'), scope: 'user' },
    { client: 'cursor', path: join(home, '.cursor', 'mcp.json'), scope: 'user' },
    { client: 'claude-desktop', path: join(config, 'Claude', 'claude_desktop_config.json'), scope: 'user' },
    { client: 'windsurf', path: join(home, '.codeium', 'windsurf', 'mcp_config.json'), scope: 'user' },
    { client: 'gemini', path: join(home, '.gemini', 'settings.json'), scope: 'user' },
  ];
}

/** Which client a configuration file belongs to, from its name and folder; undefined when the name says nothing. */
export function clientOfPath(path: string): ClientId | undefined {
  const name = basename(path);
  const folder = basename(dirname(path));
  if (name === '.mcp.json' || name === '.claude.json') return 'claude-code';
  if (name === 'claude_desktop_config.json') return 'claude-desktop';
  if (name === 'mcp_config.json' && folder === 'windsurf') return 'windsurf';
  if (name === 'settings.json' && folder === '.gemini') return 'gemini';
  if (name === 'mcp.json' && folder === '.cursor') return 'cursor';
  if (name === 'mcp.json' && (folder === '.vscode' || folder === 'User')) return 'vscode';
  return undefined;
}
