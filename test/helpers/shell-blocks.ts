/** The ```bash blocks of a Markdown file, as test/e2e/readme.test.ts runs them. */

export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  script: string;
  /** Set when `<!-- not-run: reason -->` stands just above the fence (only blank lines between); '' when the reason is missing. */
  notRun?: string;
}

const NOT_RUN = /^<!--\s*not-run\b:?\s*(.*?)\s*-->$/;

export function shellBlocks(file: string, markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith(fence)) end++;
    if (open[2] === 'bash') {
      let above = i - 1;
      while (above >= 0 && lines[above]!.trim() === '') above--;
      const marker = above >= 0 ? NOT_RUN.exec(lines[above]!.trim()) : null;
      blocks.push({
        file,
        line: i + 1,
        script: lines.slice(i + 1, end).join('\n'),
        ...(marker ? { notRun: marker[1]! } : {}),
      });
    }
    // A block's lines are its text: never read as a fence or a marker.
    i = end;
  }
  return blocks;
}
