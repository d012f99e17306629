// pg's value mapping for Bind (pg/lib/utils.js, a public path of the package, not in its typings):
// how a JavaScript value becomes a parameter's text, as pg itself binds it.
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown }
  export default utils
}
