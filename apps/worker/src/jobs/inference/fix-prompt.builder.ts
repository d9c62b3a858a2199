import type { ContextFile } from '../context/context-selector';
import type { ChatMessage } from './inference.client';

const SYSTEM_PROMPT = `You are a careful software engineer fixing one ticket in a repository.
Reply with the smallest change that fixes the ticket, as one or more edit blocks in exactly this format:

path/to/file.ext
<<<<<<< SEARCH
exact existing lines, copied character for character from the file
=======
replacement lines
>>>>>>> REPLACE

Rules:
- The path is relative to the repository root and is alone on the line before <<<<<<< SEARCH.
- SEARCH must match the current file exactly and only once; include enough lines to be unique.
- To create a new file, leave SEARCH empty.
- Do not edit files under .git/. Do not explain at length; the edit blocks are what counts.`;

/** Builds the chat messages for a fix: the edit-block rules, then the ticket and the selected files. */
export function buildFixPrompt(ticket: { readonly title: string; readonly description: string }, files: readonly ContextFile[]): ChatMessage[] {
  const sections = files.map((file) => `${file.path}\n\`\`\`\n${file.content}${file.content.endsWith('\n') ? '' : '\n'}\`\`\``);
  const user = `# Ticket: ${ticket.title}\n\n${ticket.description}\n\n# Relevant files\n\n${sections.join('\n\n')}`;
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: user },
  ];
}
