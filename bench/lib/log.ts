/** A progress line on stderr; stdout is kept for the markdown summary. */
export const note = (message: string) => process.stderr.write(`[bench] ${message}\n`)
