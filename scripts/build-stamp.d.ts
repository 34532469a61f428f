// Types for build-stamp.js (plain JavaScript: `npm start` runs it before anything compiles TypeScript).
export declare const BUILD_INPUTS: readonly string[];
export declare const STAMP_FILE: string;
export declare function inputsHash(root: string): string;
export declare function buildNeeded(root: string): boolean;
export declare function buildAndStamp(root: string, build: () => void): void;
