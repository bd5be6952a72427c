/**
 * Passwords Igor can check: in a database that says so (services/igor/passwordHash, set when an Igor directory is
 * adopted) new passwords are stored as Igor's passlib writes them, `$pbkdf2-sha256$29000$SALT$HASH` in passlib's
 * adapted base64, so that going back to Igor keeps every login working. Elsewhere they stay scrypt.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts';
import { passwordHashOf, setPassword } from '../../src/auth/users.ts';
import { quietLogger } from '../../src/logger.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { Database } from '../../src/store/database.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { passlibVerifies } from './igorDirectory.ts';

async function openDatabase(): Promise<Database> {
  return Database.open({ dir: await tempDir(), template: join(PACKAGE_DIR, 'template', 'database.xml'), logger: quietLogger('silent') });
}

const stored = (db: Database, user: string) => db.tree.select(`/data/identities/${user}/encryptedPassword`)[0]!.textContent!;

describe('passwords as Igor stores them', () => {
  it('makes pbkdf2-sha256 hashes in passlib format, with its default rounds, that both sides verify', async () => {
    const password = 'Zoë’s pass ✓ 1';
    const hash = await hashPassword(password, 'pbkdf2-sha256');
    // passlib 1.7: 29000 rounds, a 16-byte salt (22 characters), a 32-byte checksum (43 characters).
    assert.match(hash, /^\$pbkdf2-sha256\$29000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{43}$/);
    assert.ok(passlibVerifies(password, hash));
    assert.ok(!passlibVerifies('another password', hash));
    assert.equal(await verifyPassword(password, hash), true);
    assert.notEqual(await hashPassword(password, 'pbkdf2-sha256'), hash, 'a new salt each time');
  });

  it('reads the hash Igor 0.99.2 wrote for jack', async () => {
    const igors = '$pbkdf2-sha256$29000$GGOsNWYMwXgPYawV4jxHKA$8xTZewLq/AuosEd/qxI8fo4GirKnblr2glUWDFKw1ZY';
    assert.ok(passlibVerifies('jacks-igor-pw-1', igors), 'the check used here agrees with Igor');
    assert.equal(await verifyPassword('jacks-igor-pw-1', igors), true);
    assert.equal(await verifyPassword('jacks-igor-pw-2', igors), false);
  });

  it('stores new passwords as Igor does only where the database says so', async () => {
    const db = await openDatabase();
    try {
      assert.equal(passwordHashOf(db), 'scrypt');
      await setPassword(db, 'jack', 'a-long-password-1');
      assert.match(stored(db, 'jack'), /^\$scrypt\$/);
      await db.write((t) => t.put('/data/services/igor/passwordHash', elementFromJson(t.doc, 'passwordHash', 'pbkdf2-sha256')));
      assert.equal(passwordHashOf(db), 'pbkdf2-sha256');
      await setPassword(db, 'jack', 'a-long-password-2');
      assert.ok(passlibVerifies('a-long-password-2', stored(db, 'jack')), 'Igor could check it');
      await setPassword(db, 'jill', 'another-password-3');
      assert.ok(passlibVerifies('another-password-3', stored(db, 'jill')), 'a new user too');
      // Anything else there is not a reason to store weaker hashes.
      await db.write((t) => t.put('/data/services/igor/passwordHash', elementFromJson(t.doc, 'passwordHash', 'md5')));
      await setPassword(db, 'jack', 'a-long-password-4');
      assert.match(stored(db, 'jack'), /^\$scrypt\$/);
    } finally {
      await db.close();
    }
  });
});
