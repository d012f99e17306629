/** What one check found: problems (each names its file and object) and a one-line summary. */
export interface Report {
  problems: string[]
  summary: string
}
