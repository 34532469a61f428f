// One base for the harness's own errors, in jose's shape (src/util/errors.ts): a stable string
// `code` to branch on after an `instanceof`, a message for people, and `name` taken from the
// class so no subclass has to set it. Subclasses are a few lines each; one with a fixed code
// passes it to super, one with several takes it as its first argument.
//
// `name` comes from the class as written; a minifying build may shorten class names, so code
// must branch on `instanceof` and `code`, never on `name`.
export class HarnessError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
