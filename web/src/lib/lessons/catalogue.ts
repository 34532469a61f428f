// The lessons that ship with the app: every JSON file in ./catalogue, read at build time and
// validated when the screen opens (a file that does not parse is listed with its field).
import { readCatalogue } from './format.ts';

const files = import.meta.glob('./catalogue/*.json', { eager: true, query: '?raw', import: 'default' }) as Record<string, string>;

export const CATALOGUE = readCatalogue(files);
