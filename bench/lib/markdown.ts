/** A number with fixed digits, or n/a when it is not finite. */
export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

export interface Column {
  title: string
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right'
}

/** A markdown table: a header row, the alignment row, then one row per entry. */
export function markdownTable(columns: (Column | string)[], rows: string[][]): string[] {
  const cols = columns.map((c) => (typeof c === 'string' ? { title: c } : c))
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(cols.map((c) => c.title)), line(cols.map((c) => (c.align === 'right' ? '---:' : '---'))), ...rows.map(line)]
}
