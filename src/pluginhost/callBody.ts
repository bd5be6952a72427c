/**
 * What a plugin method gets of a request's query and body (PluginCall params and body): the query, form fields and
 * a JSON object's top-level scalars as text, the raw body for signatures, and the files of a multipart form. The
 * same for a call over HTTP (rest/plugins.ts) and one made by a plugin's tests (src/testing).
 */
import type busboy from 'busboy';
import { BadRequestError } from '../errors.ts';
import type { Json, PluginCall, UploadedFile } from '../plugin-api.ts';
import { setOwn } from '../tree/jsonxml.ts';

/** A multipart/form-data body: its text fields and its files. busboy is loaded with the first such body. */
async function parseMultipart(raw: Buffer, contentType: string): Promise<{ fields: [string, string][]; files: UploadedFile[] }> {
  const { default: busboy } = await import('busboy');
  return new Promise((resolve, reject) => {
    const fields: [string, string][] = [];
    const files: UploadedFile[] = [];
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fields: 200, files: 20, fieldSize: raw.length, fileSize: raw.length },
      });
    } catch (err) {
      reject(new BadRequestError(`the multipart body cannot be read: ${(err as Error).message}`));
      return;
    }
    parser.on('field', (name, value) => fields.push([name, value]));
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => files.push({ field, filename: info.filename ?? '', contentType: info.mimeType, data: Buffer.concat(chunks) }));
    });
    parser.on('error', (err: Error) => reject(new BadRequestError(`the multipart body cannot be read: ${err.message}`)));
    parser.on('close', () => resolve({ fields, files }));
    parser.end(raw);
  });
}

/** Query, form fields and a JSON object's top-level scalars, as text; the raw body for signatures; uploaded files. */
export async function paramsAndBody(
  query: Iterable<[string, string]>,
  raw: Buffer | undefined,
  contentTypeHeader: string | undefined,
): Promise<{ params: Record<string, string>; body?: PluginCall['body'] }> {
  // Own properties only: a parameter named __proto__ or constructor is a parameter like any other.
  const params: Record<string, string> = {};
  for (const [k, v] of query) setOwn(params, k, v);
  if (!raw || raw.length === 0) return { params };
  const contentType = (contentTypeHeader ?? 'application/octet-stream').toLowerCase();
  let json: Json | undefined;
  let files: UploadedFile[] | undefined;
  if (contentType.startsWith('application/json')) {
    try {
      json = JSON.parse(raw.toString('utf8')) as Json;
    } catch (err) {
      throw new BadRequestError(`the JSON body is not valid: ${(err as Error).message}`);
    }
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      for (const [k, v] of Object.entries(json))
        if ((v === null || typeof v !== 'object') && !Object.hasOwn(params, k)) setOwn(params, k, String(v));
    }
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) setOwn(params, k, v);
  } else if (contentType.startsWith('multipart/form-data')) {
    const form = await parseMultipart(raw, contentTypeHeader!);
    for (const [k, v] of form.fields) setOwn(params, k, v);
    files = form.files;
  }
  return { params, body: { raw, contentType, ...(json !== undefined ? { json } : {}), ...(files ? { files } : {}) } };
}
