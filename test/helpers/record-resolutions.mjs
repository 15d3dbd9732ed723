// `node --import ./test/helpers/record-resolutions.mjs …`: appends every module URL the process
// resolves to the file named by REBOOK_RECORD_RESOLUTIONS (one a line). Hooks run off the main
// thread, so the file is the way back to the test.
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
const file = process.env.REBOOK_RECORD_RESOLUTIONS;
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (file) appendFileSync(file, resolved.url + '\\n');
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
