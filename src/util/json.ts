// JSON as it comes off the wire, before any schema is applied.
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
