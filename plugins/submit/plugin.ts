/**
 * submit: client apps register with a secret registration token, trade their client_id for expiring auth
 * tokens, and submit data (JSON and files) with them — the SIG voice-backend server (sensein/voice-backend,
 * serve.py at a367732) as a plugin, with its flaws fixed (see readme.md). A short method table: what is kept in
 * the tree is in records.ts, the calls in register.ts, token.ts and submission.ts.
 */
import type { PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { SubmitRecords } from './records.ts';
import { registerMethod } from './register.ts';
import { HARD_MAX_UPLOAD_BYTES, submitMethod } from './submission.ts';
import { tokenMethod } from './token.ts';

function create(host: PluginHost) {
  const records = new SubmitRecords(host);
  const open = { access: 'public' as const, cors: true };
  return {
    methods: {
      index: { ...open, handler: () => ({ hello: 'world' }) },
      register: { ...open, handler: registerMethod(host, records) },
      token: { ...open, handler: tokenMethod(host, records) },
      // Files make large bodies: only with a valid auth_token in the query, checked before the body is read.
      submit: {
        ...open,
        maxBodyBytes: HARD_MAX_UPLOAD_BYTES + 1024 * 1024,
        acceptsLargeBody: ({ params }: { params: Readonly<Record<string, string>> }) =>
          records.validToken(params['auth_token'], Math.floor(Date.now() / 1000)) !== undefined,
        handler: submitMethod(host, records),
      },
    },
    commands: {
      /** The registration token; --rotate makes a new one (clients registered with the old one keep working). */
      token: async (args: Record<string, string>) => {
        await records.ready;
        const value = args['rotate'] && args['rotate'] !== 'false' ? await records.rotateRegistrationToken() : records.registrationToken();
        return `${value}\n`;
      },
      /** The registered clients and their callback URLs. */
      clients: () => records.clients(),
    },
  };
}

export default {
  description: 'Client apps register, get expiring tokens and submit data (JSON and files)',
  create,
} satisfies PluginDefinition;
