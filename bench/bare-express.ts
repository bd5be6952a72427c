// The ceiling for bench/rest.ts: express 5 answering hello-world on the same machine.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/', (_req, res) => {
  res.set('Content-Type', 'text/plain; charset=utf-8').send('hello\n');
});
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`serving http://127.0.0.1:${port}/\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
