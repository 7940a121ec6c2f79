// Fails when src/api/schema.d.ts is not what openapi-typescript makes of the committed
// openapi/openapi.json (run `npm run gen:api` after changing the API).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const spec = new URL('../../../openapi/openapi.json', import.meta.url);
const committed = fileURLToPath(new URL('../src/api/schema.d.ts', import.meta.url));
const fresh = astToString(await openapiTS(JSON.parse(readFileSync(spec, 'utf8')), { defaultNonNullable: false }));
const strip = (text) => text.replace(/^\/\*\*[\s\S]*?\*\/\s*/, '').trim();
if (strip(fresh) !== strip(readFileSync(committed, 'utf8'))) {
  console.error('src/api/schema.d.ts is stale: run `npm run gen:api` in clients/web');
  process.exit(1);
}
console.log('typed client matches openapi/openapi.json');
