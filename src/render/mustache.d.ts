// Only the part of mustache@4 that Arca uses: its parser. Rendering is Arca's own (strict, no escaping).
declare module 'mustache' {
  const Mustache: {
    parse(template: string, tags?: [string, string]): unknown[];
    templateCache: unknown;
  };
  export default Mustache;
}
