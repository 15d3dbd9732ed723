/**
 * One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` to the URL in
 * the List-Unsubscribe header and that opts the recipient out. GET only shows a page with a
 * button: link scanners and previews follow GETs, and must not unsubscribe anyone.
 * https://datatracker.ietf.org/doc/html/rfc8058
 */
import type { FastifyInstance } from 'fastify';
import { RebookError } from '../../errors.js';
import type { Inbound } from '../../messaging/inbound.js';
import { UNSUBSCRIBE_SECRET_ENV, verifyUnsubscribeToken } from '../../messaging/unsubscribe.js';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">${body}</body></html>`;

export function unsubscribeRoutes(inbound: Inbound) {
  return async function register(app: FastifyInstance): Promise<void> {
    // RFC 8058 bodies are form-encoded or multipart; the token in the path is the proof.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    const messageIdOf = (token: string) => {
      const secret = app.deps.secrets[UNSUBSCRIBE_SECRET_ENV];
      if (!secret) throw new RebookError('unauthorized', 'unsubscribe links are not configured');
      const id = verifyUnsubscribeToken(secret, token);
      if (!id) throw new RebookError('not_found', 'unknown or invalid unsubscribe link');
      return id;
    };

    app.get('/unsubscribe/:token', async (req, reply) => {
      const { token } = req.params as { token: string };
      messageIdOf(token);
      return reply
        .type('text/html')
        .send(
          page(
            'Unsubscribe',
            `<h1>Unsubscribe</h1><p>Stop receiving these emails?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
          ),
        );
    });

    app.post('/unsubscribe/:token', async (req, reply) => {
      const { token } = req.params as { token: string };
      const id = messageIdOf(token);
      if (!(await inbound.unsubscribe(id))) throw new RebookError('not_found', 'unknown or invalid unsubscribe link');
      return reply
        .type('text/html')
        .send(page('Unsubscribed', '<h1>You are unsubscribed</h1><p>You will not receive these emails any more.</p>'));
    });
  };
}
